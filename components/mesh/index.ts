export * from "./istio";
export * from "./edge";
export * from "./sidecar";
