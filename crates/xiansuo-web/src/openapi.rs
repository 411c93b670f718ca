//! The OpenAPI document (being written).

/// The OpenAPI document of the JSON API.
pub fn document() -> utoipa::openapi::OpenApi {
    utoipa::openapi::OpenApiBuilder::new().build()
}
