export * from "./cron";
export * from "./backup";
