"""Every error the API answers, built in one place, in the contract's shapes.

Handlers and domain operations raise these; ``APIHandler.write_error`` renders
them. Shapes (contract/RESPONSES.md):

- 401 ``{"message": "Unauthenticated."}``
- 422 validation ``{"message": "<first> (and N more errors)", "errors": {field: [..]}}``
- 429 ``{"message": ...}`` with ``Retry-After``
- anything else ``{"success": false, "message": ..., **extra}``
"""


class APIError(Exception):
    status = 400

    def __init__(self, message, *, status=None, headers=None, **extra):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extra = extra

    def body(self):
        return {"success": False, "message": self.message, **self.extra}


class Unauthenticated(APIError):
    status = 401

    def __init__(self):
        super().__init__("Unauthenticated.")

    def body(self):
        return {"message": self.message}


class Forbidden(APIError):
    status = 403


class NotFound(APIError):
    status = 404


class Conflict(APIError):
    status = 409


class ValidationFailed(APIError):
    """Laravel's validation answer: every field's messages, the first in ``message``."""
    status = 422

    def __init__(self, errors, **extra):
        self.errors = {field: list(msgs) for field, msgs in errors.items()}
        count = sum(len(m) for m in self.errors.values())
        first = next(iter(self.errors.values()))[0] if count else "The given data was invalid."
        if count > 1:
            first += " (and %d more error%s)" % (count - 1, "" if count == 2 else "s")
        super().__init__(first, **extra)

    @classmethod
    def field(cls, field, message, **extra):
        return cls({field: [message]}, **extra)

    def body(self):
        return {"message": self.message, "errors": self.errors, **self.extra}


class Unprocessable(APIError):
    """A request that is well-formed but not allowed in the current state
    (paying a cancelled order): ``{"success": false, "message"}`` with 422."""
    status = 422


class TooManyRequests(APIError):
    status = 429

    def __init__(self, message, retry_after):
        retry_after = max(1, int(retry_after + 0.999))
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after

    def body(self):
        return {"message": self.message}


class ServiceUnavailable(APIError):
    status = 503

    def __init__(self, message, retry_after=None):
        headers = {"Retry-After": str(int(retry_after))} if retry_after else {}
        super().__init__(message, headers=headers)
