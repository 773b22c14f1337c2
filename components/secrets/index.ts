export * from "./sealed-secrets";
