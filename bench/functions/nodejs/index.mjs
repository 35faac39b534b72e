// The benchmark handler (nodejs20.x, and serverless-offline's peers run this same file).
// No-op unless the event asks it to sleep; answers with an id fixed at init, so a caller can count
// the distinct execution environments that served it.
const environment = Math.random().toString(36).slice(2, 10).padEnd(8, "0");

export const handler = async (event) => {
  const ms = event && typeof event.sleepMs === "number" ? event.sleepMs : 0;
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  return { ok: true, environment };
};
