export * from "./cron";
export * from "./backup";
export * from "./policy";
