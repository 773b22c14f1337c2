export * from "./istio";
export * from "./edge";
