//! A JSON response body serialized ahead of time. The document states the body's type `T` as
//! [`Json<T>`](poem_openapi::payload::Json) would; the response carries bytes made once from
//! a `T` and served as often as they stay current — a cached catalog page's body, kept with the
//! page ([`Rendered`]) and dropped with it.

use std::marker::PhantomData;

use bytes::Bytes;
use lyceum_domain::state::Rendered;
use poem::IntoResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};

/// The JSON of a `T`, already serialized.
pub struct PreparedJson<T> {
    body: Bytes,
    of: PhantomData<fn() -> T>,
}

impl<T: ToJSON> PreparedJson<T> {
    /// `rendered`, made from `make()` the first time (the same bytes `Json<T>` would send).
    pub fn kept_in(rendered: &Rendered, make: impl FnOnce() -> T) -> Self {
        Self {
            body: rendered.get_or_init(|| Bytes::from(make().to_json_string())),
            of: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for PreparedJson<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedJson")
            .field("type", &std::any::type_name::<T>())
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl<T: Type> Payload for PreparedJson<T> {
    const CONTENT_TYPE: &'static str = Json::<T>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type> IntoResponse for PreparedJson<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(<Self as Payload>::CONTENT_TYPE)
            .body(self.body)
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::Object;

    use super::*;

    #[derive(Debug, Object)]
    struct Shelf {
        title: String,
        #[oai(skip_serializing_if_is_none)]
        next: Option<String>,
    }

    #[tokio::test]
    async fn serves_what_json_would_once_per_rendering() {
        let rendered = Rendered::default();
        let first = PreparedJson::kept_in(&rendered, || Shelf {
            title: "Rust \"fast\" <b>".into(),
            next: None,
        });
        // Kept: a second request does not render again, even were the value to differ.
        let again = PreparedJson::kept_in(&rendered, || Shelf {
            title: "never rendered".into(),
            next: Some("x".into()),
        });
        let expected = Json(Shelf {
            title: "Rust \"fast\" <b>".into(),
            next: None,
        })
        .into_response();
        let expected_type = expected.content_type().map(str::to_owned);
        let expected = expected.into_body().into_string().await.expect("body");
        for prepared in [first, again] {
            let response = prepared.into_response();
            assert_eq!(response.content_type().map(str::to_owned), expected_type);
            assert_eq!(
                response.into_body().into_string().await.expect("body"),
                expected
            );
        }
        assert_eq!(expected, r#"{"title":"Rust \"fast\" <b>"}"#);
    }
}
