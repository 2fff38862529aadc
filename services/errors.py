"""Typed errors: a machine code for programs and a Chinese message for people.

Handlers turn them into `{"error": {"code", "message"}}` with the HTTP status, or into a page.
"""


class ServiceError(Exception):
    status = 400

    def __init__(self, code, message, status=None, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status

    def to_dict(self):
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class InvalidInput(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooMany(ServiceError):
    status = 429
