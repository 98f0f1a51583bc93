"""FCM HTTP v1 from the cloud: android and ios tokens.

The service account's JSON (``push_fcm_credentials``) gives the project and the key that
signs the OAuth assertion (RS256, google-auth); the access token is fetched from its
token URI (or ``push_fcm_token_uri``) and kept until a minute before it expires. A push is
``POST {push_fcm_base_url}/v1/projects/{project}/messages:send`` with the notification's
title and body, its data as strings, and the time to live for Android and APNs. FCM's
errors (an ``error`` with ``status`` and a ``details[].errorCode``) mean: UNREGISTERED,
INVALID_ARGUMENT and SENDER_ID_MISMATCH, the token is dead (deleted); QUOTA_EXCEEDED,
UNAVAILABLE and INTERNAL, try later (Retry-After); 401, the access token is renewed once.
"""

import asyncio
import datetime
import json

import google.auth.exceptions
import google.auth.transport.requests
import orjson
from google.oauth2 import service_account

from .webpush import Result, by_status, retry_after

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEAD = {"UNREGISTERED", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH"}
LATER = {"QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"}


def load_credentials(path, token_uri=""):
    """Service-account credentials from the JSON at path (token_uri: another token URI)."""
    with open(path) as fh:
        info = json.load(fh)
    if token_uri:
        info["token_uri"] = token_uri
    return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])


def error_code(body):
    """(FCM error code, message) of an error answer."""
    try:
        error = orjson.loads(body).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        return None, ""
    codes = [d.get("errorCode") for d in error.get("details") or ()
             if isinstance(d, dict) and d.get("errorCode")]
    return (codes[0] if codes else error.get("status")), str(error.get("message", ""))


class FcmService:
    def __init__(self, credentials, base_url, http, clock):
        self.credentials = credentials
        self.url = "%s/v1/projects/%s/messages:send" % (base_url.rstrip("/"),
                                                        credentials.project_id)
        self.http = http
        self.clock = clock
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    async def access_token(self, renew=False):
        """The OAuth access token, fetched when there is none or it ends within a minute."""
        async with self._lock:
            creds = self.credentials
            soon = datetime.datetime.utcnow() + datetime.timedelta(seconds=60)
            if renew or not creds.token or (creds.expiry and creds.expiry <= soon):
                await asyncio.to_thread(creds.refresh, google.auth.transport.requests.Request())
                self.token_fetches += 1
            return creds.token

    def message(self, delivery, ttl):
        p = delivery["payload"]
        data = dict(p["data"], notification_id=p["notification_id"], type=p["type"])
        body = p["body"] if len(p["body"]) <= 1000 else p["body"][:999] + "…"
        return {"message": {
            "token": delivery["token"],
            "notification": {"title": p["title"][:200], "body": body},
            "data": data,
            "android": {"ttl": "%ds" % max(0, int(ttl)), "priority": "high",
                        "collapse_key": "n%s" % p["notification_id"]},
            "apns": {"headers": {"apns-expiration": str(int(self.clock.time() + ttl)),
                                 "apns-collapse-id": "n%s" % p["notification_id"],
                                 "apns-priority": "10"}},
        }}

    async def send(self, delivery, ttl):
        body = orjson.dumps(self.message(delivery, ttl))
        try:
            for renew in (False, True):
                token = await self.access_token(renew)
                resp = await self.http.post(self.url, body, {
                    "Authorization": "Bearer " + token, "Content-Type": "application/json"})
                if resp.code != 401:
                    break
        except google.auth.exceptions.GoogleAuthError as exc:
            return Result("retry", "FCM's OAuth token could not be had: %s" % exc)
        text = resp.text
        wait = retry_after(resp.headers.get("Retry-After"), self.clock.time())
        if 200 <= resp.code < 300:
            return Result("sent", "FCM accepted it (%d)" % resp.code, resp.code)
        code, message = error_code(text)
        detail = "FCM answered %d %s: %s" % (resp.code, code or "", message[:200])
        if code in DEAD:
            return Result("gone", detail + "; the token is removed", resp.code)
        if code in LATER:
            return Result("retry", detail, resp.code, wait)
        return by_status(resp.code, text, wait, "FCM").but(detail)

