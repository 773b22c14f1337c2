export * from "./validation";
export * from "./ingress";
export * from "./nginx-conf";
export * from "./cdn";
export * from "./spec";
