export * from "./istio";
