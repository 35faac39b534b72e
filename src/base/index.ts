/**
 * base: errors, clock, ids, config and logging. Small and free of business logic;
 * imports nothing from other components.
 */
export * from "./errors.js";
export * from "./clock.js";
export * from "./ids.js";
export * from "./log.js";
export * from "./config.js";
