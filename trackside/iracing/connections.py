"""Connecting an iRacing account and keeping its tokens fresh.

``start`` makes a PKCE verifier and an unguessable single-use state bound to the user (and to
the browser that asked, by a cookie), valid 10 minutes. ``callback`` takes the state back once,
exchanges the code with the verifier, reads the member's profile and stores the sealed tokens.
``access_token`` refreshes a token expiring within 5 minutes and commits the new single-use
refresh token before the access token is used; a refused refresh marks the connection as
needing a reconnect.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from trackside.config import Settings
from trackside.errors import Conflict, NotFound, ServiceError
from trackside.iracing import oauth
from trackside.iracing.crypto import SecretBox, secret_box
from trackside.iracing.data_api import DataApi, RateGate, TokenRejected
from trackside.iracing.models import IracingAccount, IracingAuthState
from trackside.iracing.schemas import StatusOut

STATE_TTL = timedelta(minutes=10)
REFRESH_AHEAD = timedelta(minutes=5)
CALLBACK_PATH = "/auth/iracing/callback"
HTTP_TIMEOUT_S = 30.0


class NotConfigured(ServiceError):
    """503: no iRacing client id is configured on this server."""


class BadState(ServiceError):
    """400: the callback's state is unknown, expired, used, or not this browser's."""


class NeedsReconnect(Conflict):
    """409: the stored tokens no longer work; the member must connect again."""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Started:
    auth_url: str
    browser_token: str  # goes to the browser as a cookie; only its digest is kept


class IRacing:
    """The iRacing integration of one server: settings, the key, one HTTP client, one gate."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._box: SecretBox | None = None
        self._http = http
        self.gate = RateGate()
        self._locks: dict[int, asyncio.Lock] = {}

    @property
    def configured(self) -> bool:
        return bool(self.settings.iracing_client_id)

    def require(self) -> None:
        if not self.configured:
            raise NotConfigured(
                "iRacing is not configured on this server: set TRACKSIDE_IRACING_CLIENT_ID "
                "(and TRACKSIDE_IRACING_CLIENT_SECRET if iRacing issued one)"
            )

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = secret_box(self.settings)
        return self._box

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False)
        return self._http

    def oauth(self) -> oauth.OAuthClient:
        self.require()
        secret = self.settings.iracing_client_secret
        return oauth.OAuthClient(
            self.http,
            self.settings.iracing_oauth_url,
            self.settings.iracing_client_id or "",
            secret.get_secret_value() if secret is not None else None,
        )

    def data_api(self) -> DataApi:
        return DataApi(
            self.http,
            self.settings.iracing_data_url,
            self.gate,
            self.settings.iracing_rate_limit_wait_s,
        )

    def redirect_uri(self, base_url: str) -> str:
        if self.settings.iracing_redirect_uri:
            return self.settings.iracing_redirect_uri
        base = self.settings.public_url or base_url
        return f"{base.rstrip('/')}{CALLBACK_PATH}"

    def lock(self, user_id: int) -> asyncio.Lock:
        """One refresh (and one sync) per member at a time: refresh tokens are single-use."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- connecting ----------------------------------------------------------------------

    async def start(
        self, db: AsyncSession, user_id: int, base_url: str, browser: str | None = None
    ) -> Started:
        """A new state bound to the user and to ``browser`` (the cookie the browser already
        holds, so two starts in one browser both stay valid; else a new one)."""
        self.require()
        now = datetime.now(UTC)
        await db.execute(delete(IracingAuthState).where(IracingAuthState.expires_at < now))
        if not browser or len(browser) < 32 or len(browser) > 100:
            browser = secrets.token_urlsafe(32)
        state, verifier = secrets.token_urlsafe(32), oauth.new_verifier()
        db.add(
            IracingAuthState(
                state_hash=digest(state),
                user_id=user_id,
                verifier=self.box.seal(verifier),
                browser_hash=digest(browser),
                expires_at=now + STATE_TTL,
            )
        )
        await db.commit()
        url = oauth.authorize_url(
            self.settings.iracing_oauth_url,
            self.settings.iracing_client_id or "",
            self.redirect_uri(base_url),
            state,
            verifier,
        )
        return Started(url, browser)

    async def take_state(
        self, db: AsyncSession, state: str | None, browser_token: str | None
    ) -> IracingAuthState:
        """The pending start this state names, removed (used once) in a committed transaction.
        Unknown, expired, or sent from another browser: ``BadState``."""
        if not state:
            raise BadState("the callback has no state: start connecting again")
        row = await db.get(IracingAuthState, digest(state), with_for_update=True)
        if row is None:
            raise BadState("unknown or already used state: start connecting again")
        await db.delete(row)
        await db.commit()
        if row.expires_at < datetime.now(UTC):
            raise BadState("the state expired (10 minutes): start connecting again")
        if not browser_token or not secrets.compare_digest(row.browser_hash, digest(browser_token)):
            raise BadState("the state was not issued to this browser: start connecting again")
        return row

    async def callback(
        self,
        db: AsyncSession,
        code: str | None,
        state: str | None,
        browser_token: str | None,
        base_url: str,
    ) -> IracingAccount:
        """Exchange the code, read the profile, store the account; the state is spent first."""
        self.require()
        pending = await self.take_state(db, state, browser_token)
        if not code:
            raise BadState("the callback has no code")
        client = self.oauth()
        try:
            tokens = await client.exchange(
                code, self.box.open(pending.verifier), self.redirect_uri(base_url)
            )
            cust_id, name = await client.profile(tokens.access_token)
        except oauth.OAuthError as exc:
            raise BadState(f"iRacing refused the authorization: {exc}") from exc
        return await self._store(db, pending.user_id, tokens, cust_id, name)

    async def _store(
        self,
        db: AsyncSession,
        user_id: int,
        tokens: oauth.Tokens,
        cust_id: int,
        name: str | None,
    ) -> IracingAccount:
        account = await db.scalar(
            select(IracingAccount).where(IracingAccount.user_id == user_id).with_for_update()
        )
        now = datetime.now(UTC)
        if account is None:
            account = IracingAccount(user_id=user_id, connected_at=now)
            db.add(account)
        elif account.cust_id != cust_id:
            account.connected_at = now
            account.last_synced_at = None
        account.cust_id = cust_id
        account.display_name = name
        self._put_tokens(account, tokens)
        account.last_error = None
        await db.commit()
        return account

    def _put_tokens(self, account: IracingAccount, tokens: oauth.Tokens) -> None:
        account.access_token = self.box.seal(tokens.access_token)
        account.refresh_token = (
            self.box.seal(tokens.refresh_token) if tokens.refresh_token else None
        )
        account.expires_at = tokens.expires_at
        account.refresh_expires_at = tokens.refresh_expires_at
        account.scope = tokens.scope
        account.needs_reconnect = False

    # --- reading and leaving -------------------------------------------------------------

    async def account(self, db: AsyncSession, user_id: int) -> IracingAccount | None:
        return await db.scalar(select(IracingAccount).where(IracingAccount.user_id == user_id))

    async def status(self, db: AsyncSession, user_id: int) -> StatusOut:
        self.require()
        account = await self.account(db, user_id)
        if account is None:
            return StatusOut(connected=False)
        return StatusOut(
            connected=not account.needs_reconnect,
            cust_id=account.cust_id,
            display_name=account.display_name,
            expires_at=account.expires_at,
            is_expired=account.expires_at <= datetime.now(UTC),
            needs_reconnect=account.needs_reconnect,
            last_synced_at=account.last_synced_at,
            connected_at=account.connected_at,
            last_error=account.last_error,
        )

    async def disconnect(self, db: AsyncSession, user_id: int) -> None:
        """Forget the tokens (the synced sessions stay until the user is deleted)."""
        self.require()
        account = await self.account(db, user_id)
        if account is None:
            raise NotFound("no iRacing account is connected")
        await db.delete(account)
        await db.commit()

    # --- tokens --------------------------------------------------------------------------

    async def access_token(self, db: AsyncSession, user_id: int, *, force: bool = False) -> str:
        """A working access token: refreshed (and committed) when it expires within 5 minutes
        or iRacing refused it (``force``). Call under ``lock(user_id)``."""
        account = await db.scalar(
            select(IracingAccount).where(IracingAccount.user_id == user_id).with_for_update()
        )
        if account is None:
            raise NotFound("no iRacing account is connected: connect one first")
        if account.needs_reconnect:
            raise NeedsReconnect("the iRacing connection needs reconnecting")
        if not force and account.expires_at - REFRESH_AHEAD > datetime.now(UTC):
            token = self.box.open(account.access_token)
            await db.commit()  # ends the row lock
            return token
        if account.refresh_token is None:
            return await self._lost(db, account, "the access token expired and there is no refresh")
        try:
            tokens = await self.oauth().refresh(self.box.open(account.refresh_token))
        except oauth.OAuthError as exc:
            if exc.code == "unreachable":
                await db.rollback()
                raise
            return await self._lost(db, account, f"iRacing refused the refresh: {exc}")
        self._put_tokens(account, tokens)
        await db.commit()  # the new single-use refresh token is kept before anything else
        return tokens.access_token

    async def _lost(self, db: AsyncSession, account: IracingAccount, why: str) -> str:
        account.needs_reconnect = True
        account.last_error = why
        await db.commit()
        raise NeedsReconnect(f"the iRacing connection needs reconnecting: {why}")

    async def fetch(self, db: AsyncSession, user_id: int, api: DataApi, path: str, **params):
        """A ``/data`` call as the member; a refused token is refreshed once and retried."""
        token = await self.access_token(db, user_id)
        try:
            return await api.get(path, token, **params)
        except TokenRejected:
            token = await self.access_token(db, user_id, force=True)
            return await api.get(path, token, **params)
