/** Platform logging: one line per event on stderr, quiet in tests unless KILN_LOG_LEVEL says otherwise. */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: object): void;
  info(msg: string, fields?: object): void;
  warn(msg: string, fields?: object): void;
  error(msg: string, fields?: object): void;
}

export function createLogger(component: string, level: Level = (process.env.KILN_LOG_LEVEL as Level) ?? "info"): Logger {
  const min = ORDER[level] ?? ORDER.info;
  const emit = (l: Level, msg: string, fields?: object): void => {
    if (ORDER[l] < min) return;
    const extra = fields ? " " + JSON.stringify(fields) : "";
    process.stderr.write(`${new Date().toISOString()} ${l.toUpperCase()} [${component}] ${msg}${extra}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
