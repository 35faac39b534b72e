"""The python runtime: started inside a sandbox as `/usr/bin/python3.11 /var/runtime/python/bootstrap.py`.

Implements the runtime side of the Lambda Runtime API 2018-06-01 as AWS's python3.11 runtime
(awslambdaric bootstrap.py) does, with the standard library only:

  init:  sys.path = /var/task, /opt/python/lib/python3.11/site-packages, /opt/python (those that
         exist), then the interpreter's own; stdout/stderr unbuffered; the root logger writes
         "[LEVEL]\\t<ISO>Z\\t<request id>\\t<msg>\\n" to stdout; import `_HANDLER` ("mod.func",
         "pkg/mod.func", "pkg.mod.func"). A failure is logged, POSTed to /runtime/init/error as
         {errorMessage, errorType, requestId: "", stackTrace} and the process exits 1.
  loop:  GET /runtime/invocation/next -> request id for logs, _X_AMZN_TRACE_ID -> handler(event,
         context) -> POST .../response with json.dumps(result), or log the error and POST
         .../error with {errorMessage, errorType, requestId, stackTrace}.

Pre-initialized sandboxes (Kiln's pool): started with _KILN_AWAIT_SPECIALIZATION set, the runtime
holds no function yet. It asks the Kiln-private GET /kiln/2025-01-01/specialization, which blocks
until the platform assigns a function, then makes the process look like a fresh start of that
function: os.environ replaced by the function's environment, cwd LAMBDA_TASK_ROOT, time zone and
sys.path recomputed (layers now exist under /opt), import caches invalidated. Init then proceeds
as in a fresh start.

Differences from AWS: Decimal results are encoded as int/float (AWS uses simplejson's exact
decimal text); log records keep their own newlines (AWS's telemetry framing is not used).
"""

import os
import sys

_SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
_LAYER_PATHS = ("/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2], "/opt/python")
_placed_paths = []


def _set_sys_path():
    """Function code first, then layers, then the interpreter's own paths (not this folder).

    Idempotent: a pre-initialized runtime calls it again once the function is in place.
    """
    global _placed_paths
    rest = [p for p in sys.path if p and os.path.abspath(p) != _SCRIPT_DIR and p not in _placed_paths]
    layers = [p for p in _LAYER_PATHS if os.path.isdir(p)]
    _placed_paths = [os.environ.get("LAMBDA_TASK_ROOT", "/var/task")] + layers
    sys.path[:] = _placed_paths + rest


_set_sys_path()

import http.client  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402

API_PREFIX = "/2018-06-01/runtime"
SPECIALIZATION_PATH = "/kiln/2025-01-01/specialization"
CONNECT_RETRY_SECONDS = 2.0
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in rare "
    "cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed runtimes, "
    "runtime updates can be triggered by a function change, or can be applied automatically. To determine if the "
    "runtime has been updated, check the runtime version in the INIT_START log entry. If this error correlates with a "
    "change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the previous "
    "runtime version. For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

_request_id = None


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


# ---- Runtime API client -------------------------------------------------------------------


class RuntimeClient:
    """One persistent HTTP/1.1 connection to AWS_LAMBDA_RUNTIME_API; no timeouts (GET /next blocks).

    Until the API has answered once, refused and reset connections (a relay that is up before the
    API behind it) are retried with a short backoff for up to CONNECT_RETRY_SECONDS. Later, a
    request on a reused connection that the server had closed meanwhile is retried once.
    """

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host, self.port = host, int(port)
        self.conn = None
        self.conn_used = False
        self.reached = False

    def _request(self, method, path, body=None, headers=None):
        give_up = time.monotonic() + CONNECT_RETRY_SECONDS
        delay = 0.002
        while True:
            if self.conn is None:
                self.conn, self.conn_used = http.client.HTTPConnection(self.host, self.port), False
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                self.conn_used = self.reached = True
                return resp.status, resp.headers, data
            except (ConnectionRefusedError, http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                reused = self.conn_used
                self._drop()
                not_up_yet = isinstance(e, ConnectionRefusedError) or not self.reached
                if not_up_yet and time.monotonic() < give_up:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
                elif not reused or isinstance(e, ConnectionRefusedError):
                    raise
                # else: the server closed an idle keep-alive connection; retry once on a fresh one
                # (conn_used is False on the fresh connection, so a second failure raises).

    def _drop(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def specialization(self):
        """Kiln-private: wait until the platform assigns this pre-initialized runtime a function."""
        status, _, body = self._request("GET", SPECIALIZATION_PATH)
        if status != 200:
            raise RuntimeError("Kiln specialization answered %d: %r" % (status, body))
        env = json.loads(body).get("env")
        if not isinstance(env, dict):
            raise RuntimeError("Kiln specialization carried no environment")
        return env

    def next(self):
        status, headers, body = self._request("GET", API_PREFIX + "/invocation/next")
        if status != 200:
            raise RuntimeError("Runtime API GET /next answered %d: %r" % (status, body))
        return headers, body

    def post_response(self, request_id, body, content_type):
        self._request("POST", "%s/invocation/%s/response" % (API_PREFIX, request_id), body, {"Content-Type": content_type})

    def post_error(self, request_id, error):
        self._post_error("%s/invocation/%s/error" % (API_PREFIX, request_id), error)

    def post_init_error(self, error):
        self._post_error(API_PREFIX + "/init/error", error)

    def _post_error(self, path, error):
        error_type = "".join(c if " " <= c <= "~" else "?" for c in error["errorType"])
        headers = {"Content-Type": "application/json", ERROR_TYPE_HEADER: error_type}
        self._request("POST", path, to_json(error).encode("utf-8"), headers)


# ---- context and marshalling --------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _obj_from_dict(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field))
    return obj


class LambdaContext:
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms, invoked_function_arn):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))


def _parse_json_header(value, name):
    if not value:
        return None
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (name, e))


def _json_default(obj):
    # decimal is imported lazily (6 ms): a Decimal result means the function already imported it.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return float("nan")
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def to_json(obj):
    return json.dumps(obj, default=_json_default)


def marshal_response(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return to_json(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)


# ---- errors -------------------------------------------------------------------------------


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def fault_result(exc, request_id=None):
    """The error body for an exception raised by user code; frames of this file are dropped from the top."""
    if isinstance(exc, FaultException):
        return make_error(exc.msg, exc.exception_type, exc.trace, request_id)
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame.filename:
            frames = frames[i:]
            break
    tuples = [(f.filename, f.lineno, f.name, f.line) for f in frames]
    return make_error(str(exc), type(exc).__name__, traceback.format_list(tuples), request_id)


def log_error(error):
    """"[ERROR] Type: message" + the traceback, one record with \\r between lines (as AWS writes it)."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append(ERROR_LOG_IDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# ---- stdout and logging -------------------------------------------------------------------


class Unbuffered:
    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        sys.stdout.write(self.format(record))


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        return True


def setup_logging():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


# ---- handler loading and the invoke loop --------------------------------------------------


def load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultException(FaultException.BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module %s as a handler module" % modname)
    import importlib

    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(FaultException.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname))


def handle_invocation(client, request_handler, headers, body):
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id") or ""
    try:
        context = LambdaContext(
            request_id,
            _parse_json_header(headers.get("Lambda-Runtime-Client-Context"), "Client Context"),
            _parse_json_header(headers.get("Lambda-Runtime-Cognito-Identity"), "Cognito Identity"),
            int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
            headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        )
        try:
            event = json.loads(body)
        except Exception as e:
            raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)
        result, content_type = marshal_response(request_handler(event, context))
    except Exception as e:
        error = fault_result(e, request_id)
        log_error(error)
        client.post_error(request_id, error)
        return
    client.post_response(request_id, result, content_type)


def await_specialization(client):
    """A pre-initialized runtime becomes a fresh start of the function it is given (see the header)."""
    env = client.specialization()
    # CPython's start-up locale coercion (PEP 538) adds LC_CTYPE when LANG's locale is missing (as in
    # the jail); a fresh start of the function would have it too. Platform and function environments
    # never set LC_* themselves (such functions are not pooled).
    coerced = {k: os.environ[k] for k in ("LC_CTYPE",) if k in os.environ and k not in env}
    os.environ.clear()
    os.environ.update(env)
    os.environ.update(coerced)
    os.chdir(os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    time.tzset()
    _set_sys_path()
    import importlib

    importlib.invalidate_caches()


def main():
    global _request_id
    client = RuntimeClient(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    if os.environ.get("_KILN_AWAIT_SPECIALIZATION"):
        await_specialization(client)
    try:
        setup_logging()
        request_handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        error = fault_result(e)
        logging.warning(UNHANDLED_EXCEPTION_WARNING)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)

    while True:
        headers, body = client.next()
        if headers.get("Kiln-Restored"):
            # A micro-VM snapshot clone: the guest kernel was reseeded; Python's generator was not.
            import random

            random.seed()
        _request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        trace_id = headers.get("Lambda-Runtime-Trace-Id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        handle_invocation(client, request_handler, headers, body)


if __name__ == "__main__":
    main()
