//! Request extractors whose failures are JSON errors a person can act on, instead of axum's
//! plain-text rejections.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde_json::Value;
use xiansuo_core::validation::Unread;

/// A JSON request body.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(mut v)) => {
                whole_numbers(&mut v);
                Ok(JsonBody(v))
            }
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// JSON does not tell `2` from `2.0`, and neither does the API: a number without a fraction
/// (within the range a float holds exactly) is read as the whole number wherever one is
/// expected, and as the same number where any number is.
fn whole_numbers(value: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                // Exact by the bound above.
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("the request body is larger than the limit of 1 MiB".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".into(),
        ),
        _ => ApiError::BadRequest(format!(
            "the body is not valid JSON: {}",
            rejection.body_text()
        )),
    }
}

/// The query string as name/value pairs, in order.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|q| QueryPairs(q.0))
            .map_err(|e: QueryRejection| {
                ApiError::BadRequest(format!(
                    "the query string cannot be read: {}",
                    e.body_text()
                ))
            })
    }
}

/// The numeric id in a path such as `/api/v1/leads/{id}`.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|p| Id(p.0))
            .map_err(|_: PathRejection| {
                ApiError::BadRequest("the id in the path must be a whole number".into())
            })
    }
}

/// A JSON request body read into the typed request `T` (a struct with
/// `#[serde(deny_unknown_fields)]`). What does not fit is a 422 naming the field: an unknown
/// one, or the one whose value has the wrong type.
pub struct Typed<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Typed<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonBody(body) = JsonBody::from_request(req, state).await?;
        typed(body).map(Typed)
    }
}

/// A JSON body read into the typed request `T`, as [`Typed`] does; for handlers that check
/// who may call them before they look at the body.
pub fn typed<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    Unread::json(body).read().map_err(ApiError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_without_a_fraction_are_whole_numbers_and_others_stay() {
        let mut body = json!({"position": 74847.0, "ids": [1.0, 2], "amount": 2.5, "huge": 1e300});
        whole_numbers(&mut body);
        assert!(body["position"].is_i64());
        assert!(body["ids"][0].is_i64());
        assert_eq!(
            body,
            json!({"position": 74847, "ids": [1, 2], "amount": 2.5, "huge": 1e300})
        );
    }
}
