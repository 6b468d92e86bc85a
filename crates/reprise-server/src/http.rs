//! The API's conventions, shared by every handler: errors as `{"code", "message"}` by
//! kind, bodies and query parameters parsed into that format, bounded bodies, and who
//! acts.

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use reprise_ops::error::{AppError, ErrorKind};

/// An API error: a stable code for programs, a message for people. Internal details are
/// logged, never sent.
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<AppError> for ApiError {
    /// By the error's kind: 404, 400, 409 (a stale save, a wrong state, something busy),
    /// 403; a failure of the operation is logged and answered 500 without its details.
    fn from(err: AppError) -> Self {
        let (status, code) = match err.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "invalid_request"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Busy => (StatusCode::CONFLICT, "busy"),
            ErrorKind::Refused => (StatusCode::FORBIDDEN, "refused"),
            ErrorKind::Failed => {
                tracing::error!(error = %err, "request failed");
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "the operation failed; the server log has the details",
                );
            }
        };
        ApiError::new(status, code, err.to_string())
    }
}

impl From<reprise_catalog::CatalogError> for ApiError {
    fn from(err: reprise_catalog::CatalogError) -> Self {
        AppError::from(err).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

pub(crate) type ApiResult<T> = Result<Json<T>, ApiError>;

/// A JSON body, or a `400 invalid_request` in our error format that says what is wrong.
pub(crate) fn body<T>(parsed: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    parsed.map(|Json(v)| v).map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("request bodies are limited to {} bytes", MAX_BODY),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.body_text())
        }
    })
}

/// A JSON body that may be left out entirely (no content type): its default then.
pub(crate) fn optional_body<T: Default>(
    parsed: Result<Json<T>, JsonRejection>,
) -> Result<T, ApiError> {
    match parsed {
        Err(JsonRejection::MissingJsonContentType(_)) => Ok(T::default()),
        other => body(other),
    }
}

/// The largest request body accepted: every body of this API is a few fields.
pub(crate) const MAX_BODY: usize = 256 * 1024;

/// How long a client may take to send its request body.
pub(crate) const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// For endpoints that take no body (an erasure's execution, a cancellation, a
/// self-backup): nothing, or an empty JSON object, is accepted; anything else is refused,
/// since what the client meant by it would be silently ignored.
pub(crate) struct NoBody;

impl<S: Send + Sync> axum::extract::FromRequest<S> for NoBody {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let bytes =
            <axum::body::Bytes as axum::extract::FromRequest<S>>::from_request(request, state)
                .await
                .map_err(|e| ApiError::new(e.status(), "invalid_request", e.body_text()))?;
        let text = String::from_utf8_lossy(&bytes);
        let empty = text.trim().is_empty()
            || serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
                .is_ok_and(|m| m.is_empty());
        if !empty {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "this endpoint takes no request body (nothing, or {})",
            ));
        }
        Ok(NoBody)
    }
}

/// Refuses a body declared larger than [`MAX_BODY`] before reading any of it, so that a
/// client announcing gigabytes does not hold a connection while it trickles them.
pub(crate) async fn declared_size(
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        let mut response = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies are limited to {MAX_BODY} bytes"),
        )
        .into_response();
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(request).await
}

/// Query parameters, or a `400 invalid_request` that says which one is wrong.
pub(crate) fn query<T>(parsed: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    parsed
        .map(|Query(v)| v)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.body_text()))
}

/// Who a request acts as: its account's name, recorded in timelines and the journal.
#[derive(Debug, Clone)]
pub(crate) struct Actor(pub String);
