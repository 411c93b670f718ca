//! The one error type of the HTTP layer and how each error becomes a response:
//! `{"error": {"code", "message", "field"}}` with the right status. A 5xx logs its cause chain
//! and tells the client nothing internal.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use xiansuo_app::error::Duplicate;
use xiansuo_app::StoreError;
use xiansuo_core::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Invalid(Invalid),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    RequestTimeout(String),
    /// A lead that dedup refused or merged; answered by [`duplicate_response`].
    #[error("{0}")]
    Duplicate(Box<xiansuo_app::leads::dedup::Duplicate>),
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Invalid(i) => ApiError::Invalid(i),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Forbidden(m) => ApiError::Forbidden(m),
            StoreError::Duplicate(d) => ApiError::Duplicate(d),
            StoreError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Invalid(e)
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Duplicate(d) if d.merged.is_some() => StatusCode::OK,
            ApiError::Duplicate(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Invalid(_) => "invalid",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::Duplicate(_) => "duplicate",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Duplicate(duplicate) = &self {
            return duplicate_response(duplicate);
        }
        let status = self.status();
        let (message, field) = match &self {
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (
                    "an internal error occurred; it has been logged".to_owned(),
                    None,
                )
            }
            ApiError::Invalid(i) => (format!("{}: {}", i.field, i.message), Some(i.field.clone())),
            other => (other.to_string(), None),
        };
        let body = json!({"error": {"code": self.code(), "message": message, "field": field}});
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// The answer to a lead that dedup did not create: refused → 409
/// `{"error": {"code": "duplicate", …}, "candidates": [...]}`; merged into an existing lead →
/// 200 with that lead and `"merged": true`.
fn duplicate_response(duplicate: &Duplicate) -> Response {
    match &duplicate.merged {
        Some(lead) => {
            let mut lead = lead.clone();
            lead["merged"] = json!(true);
            (StatusCode::OK, Json(lead)).into_response()
        }
        None => (
            StatusCode::CONFLICT,
            Json(json!({
                "error": {
                    "code": "duplicate",
                    "message": duplicate.to_string(),
                    "field": null,
                },
                "candidates": duplicate.candidates,
            })),
        )
            .into_response(),
    }
}
