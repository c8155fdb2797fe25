//! Context providers: turn a request's headers into a typed auth context, or refuse it.
//!
//! They run before the flow starts and before any streaming header is sent, so a refusal is a
//! plain 401/403 JSON response.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderName, header};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::{FlowError, Status};

/// The auth context a provider produced, as flows read it with `ctx.auth::<T>()`.
pub type AuthContext = Arc<dyn Any + Send + Sync>;

/// Decides whether a request may run a flow, and with which auth context.
///
/// Implement it for reusable providers; for a one-off check, write an async fn and wrap it
/// with [`auth_fn`].
pub trait AuthProvider: Send + Sync + 'static {
    /// Checks the request. Refuse with `UNAUTHENTICATED` (401) or `PERMISSION_DENIED` (403).
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> BoxFuture<'a, Result<AuthContext, FlowError>>;

    /// The OpenAPI security scheme object describing this provider, if it has one.
    fn security_scheme(&self) -> Option<Value> {
        None
    }
}

/// An async fn `(&Parts) -> Result<T, FlowError>`, the shape [`auth_fn`] accepts.
///
/// Implemented for every such function; never implement it by hand.
pub trait AuthFn<'a, T>: Send + Sync + 'static {
    /// The future the function returns.
    type Future: Future<Output = Result<T, FlowError>> + Send + 'a;

    /// Calls the function.
    fn call(&self, parts: &'a Parts) -> Self::Future;
}

impl<'a, F, Fut, T> AuthFn<'a, T> for F
where
    F: Fn(&'a Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, FlowError>> + Send + 'a,
{
    type Future = Fut;

    fn call(&self, parts: &'a Parts) -> Fut {
        self(parts)
    }
}

/// A provider made from an async fn; see [`auth_fn`].
pub struct FnAuth<F, T> {
    check: F,
    context: PhantomData<fn() -> T>,
}

/// Makes a provider of a plain async fn returning the typed context flows read with
/// `ctx.auth::<T>()`:
///
/// ```
/// use genflow_runtime::http::{Parts, auth_fn};
/// use genflow_runtime::{FlowError, Status};
///
/// struct User { name: String }
///
/// async fn user(parts: &Parts) -> Result<User, FlowError> {
///     let name = parts.headers.get("x-user").and_then(|v| v.to_str().ok());
///     let name = name.ok_or_else(|| FlowError::new(Status::Unauthenticated, "who are you?"))?;
///     Ok(User { name: name.to_owned() })
/// }
///
/// let provider = auth_fn(user);
/// # let _ = provider;
/// ```
pub fn auth_fn<F, T>(check: F) -> FnAuth<F, T>
where
    F: for<'a> AuthFn<'a, T>,
    T: Send + Sync + 'static,
{
    FnAuth {
        check,
        context: PhantomData,
    }
}

impl<F, T> AuthProvider for FnAuth<F, T>
where
    F: for<'a> AuthFn<'a, T>,
    T: Send + Sync + 'static,
{
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> BoxFuture<'a, Result<AuthContext, FlowError>> {
        let checked = self.check.call(parts);
        Box::pin(async move { Ok(Arc::new(checked.await?) as AuthContext) })
    }
}

/// The auth context of a request that presented a valid API key (`ctx.auth::<ApiKeyAuth>()`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiKeyAuth;

/// Where the API key is read from.
#[derive(Clone, Debug)]
enum KeySource {
    Bearer,
    Header(HeaderName),
}

/// The built-in API-key provider, compared in constant time.
///
/// A missing key is `UNAUTHENTICATED` (401), a wrong one `PERMISSION_DENIED` (403), as Genkit's
/// `apiKey` context provider answers.
#[derive(Clone)]
pub struct ApiKey {
    source: KeySource,
    secret: Vec<u8>,
}

impl ApiKey {
    /// Expects `Authorization: Bearer <secret>`.
    pub fn bearer(secret: impl Into<String>) -> Self {
        ApiKey {
            source: KeySource::Bearer,
            secret: secret.into().into_bytes(),
        }
    }

    /// Expects the secret as the whole value of the header `name` (such as `x-api-key`).
    pub fn header(name: HeaderName, secret: impl Into<String>) -> Self {
        ApiKey {
            source: KeySource::Header(name),
            secret: secret.into().into_bytes(),
        }
    }

    fn presented<'p>(&self, parts: &'p Parts) -> Option<&'p [u8]> {
        match &self.source {
            KeySource::Bearer => {
                let value = parts.headers.get(header::AUTHORIZATION)?.as_bytes();
                let (scheme, token) = value.split_at_checked(7)?;
                scheme
                    .eq_ignore_ascii_case(b"bearer ")
                    .then(|| token.trim_ascii())
            }
            KeySource::Header(name) => Some(parts.headers.get(name)?.as_bytes().trim_ascii()),
        }
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl AuthProvider for ApiKey {
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> BoxFuture<'a, Result<AuthContext, FlowError>> {
        let outcome = match self.presented(parts) {
            None | Some([]) => Err(FlowError::new(
                Status::Unauthenticated,
                "an API key is required",
            )),
            Some(key) if bool::from(key.ct_eq(&self.secret)) => {
                Ok(Arc::new(ApiKeyAuth) as AuthContext)
            }
            Some(_) => Err(FlowError::new(
                Status::PermissionDenied,
                "the API key is not valid",
            )),
        };
        Box::pin(std::future::ready(outcome))
    }

    fn security_scheme(&self) -> Option<Value> {
        Some(match &self.source {
            KeySource::Bearer => json!({"type": "http", "scheme": "bearer"}),
            KeySource::Header(name) => {
                json!({"type": "apiKey", "in": "header", "name": name.as_str()})
            }
        })
    }
}
