/**
 * Loads the function's handler from `_HANDLER`, as the nodejs20.x runtime does (UserFunction.js).
 *
 * Algorithm, for `_HANDLER = "dir/file.obj.handler"` and app root /var/task:
 *   1. Reject names containing ".." (Runtime.MalformedHandlerName).
 *   2. Module root = "dir/", module = text before the first "." of the basename ("file"),
 *      handler path = the rest ("obj.handler"); no "." -> MalformedHandlerName "Bad handler".
 *   3. With P = /var/task/dir/file, load the first that exists:
 *      P (extensionless, require), P.js via require unless the nearest package.json says
 *      "type": "module", P.js via import() if it does, P.mjs via import(), P.cjs via require;
 *      else require.resolve(module, {paths: [appRoot, moduleRoot]}) (node_modules, NODE_PATH),
 *      whose failure is the AWS-looking "Cannot find module 'file'\nRequire stack: ...".
 *   4. Walk the handler path on the module ("obj" then "handler"): missing -> Runtime.HandlerNotFound
 *      "<_HANDLER> is undefined or not exported"; not a function -> "<_HANDLER> is not a function".
 * A SyntaxError while loading becomes Runtime.UserCodeSyntaxError, MODULE_NOT_FOUND becomes
 * Runtime.ImportModuleError (message = the original error as a string); anything else thrown
 * by the module's top level propagates unchanged (errorType = its name).
 *
 * Not supported (yet): response-streaming handlers (`awslambda.streamifyResponse`), TypeScript files.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from "./errors.mjs";

const require = createRequire(import.meta.url);
const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

/**
 * @param {string} appRoot usually /var/task
 * @param {string | undefined} fullHandler the value of _HANDLER
 * @returns {Promise<Function>}
 */
export async function loadHandler(appRoot, fullHandler) {
  if (!fullHandler) throw new MalformedHandlerName("Bad handler");
  if (fullHandler.includes("..")) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(base));
  const match = FUNCTION_EXPR.exec(base);
  if (!match) throw new MalformedHandlerName("Bad handler");
  const [, moduleName = "", handlerPath = ""] = match;

  const userModule = await loadUserModule(appRoot, moduleRoot, moduleName);
  const fn = handlerPath.split(".").reduce((obj, key) => obj && obj[key], userModule);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== "function") throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

/**
 * @param {string} appRoot
 * @param {string} moduleRoot
 * @param {string} moduleName
 * @returns {Promise<any>}
 */
async function loadUserModule(appRoot, moduleRoot, moduleName) {
  try {
    return await resolveAndLoad(appRoot, moduleRoot, moduleName);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(/** @type {any} */ (err));
    if (/** @type {NodeJS.ErrnoException} */ (err)?.code === "MODULE_NOT_FOUND") throw new ImportModuleError(/** @type {any} */ (err));
    throw err;
  }
}

/**
 * @param {string} appRoot
 * @param {string} moduleRoot
 * @param {string} moduleName
 */
async function resolveAndLoad(appRoot, moduleRoot, moduleName) {
  const file = path.resolve(appRoot, moduleRoot, moduleName);
  if (existsSync(file)) return require(file);
  const typeModule = nearestPackageIsModule(path.dirname(file));
  if (existsSync(file + ".js")) return typeModule ? import(pathToFileURL(file + ".js").href) : require(file + ".js");
  if (existsSync(file + ".mjs")) return import(pathToFileURL(file + ".mjs").href);
  if (existsSync(file + ".cjs")) return require(file + ".cjs");
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

/**
 * True when the nearest package.json above `folder` has "type": "module". The search stops at a
 * node_modules folder or the file-system root (false), as Node's own lookup does.
 * @param {string} folder
 * @returns {boolean}
 */
function nearestPackageIsModule(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith("/node_modules")) return false;
    const pj = path.join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        return JSON.parse(readFileSync(pj, "utf8"))?.type === "module";
      } catch (err) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, err);
        return false;
      }
    }
    if (dir === path.dirname(dir)) return false;
  }
}
