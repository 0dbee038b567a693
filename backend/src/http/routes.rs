//! Routing by the API's declarations (`certdesk_shared::endpoint`): a handler is routed at its
//! endpoint's path for its endpoint's method, so no path or method is written twice.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};
use certdesk_shared::endpoint::{Endpoint, Method};

/// `Router::endpoint(endpoint::X, handler)`: routes `handler` at `X`'s path for `X`'s method.
pub trait RouteEndpoint<S> {
    fn endpoint<E: Endpoint, H: Handler<T, S>, T: 'static>(self, endpoint: E, handler: H) -> Self;
}

impl<S: Clone + Send + Sync + 'static> RouteEndpoint<S> for Router<S> {
    fn endpoint<E: Endpoint, H: Handler<T, S>, T: 'static>(self, endpoint: E, handler: H) -> Self {
        self.route(E::PATH, routed(endpoint, handler))
    }
}

/// `handler` for `E`'s method alone, for a route that adds a layer of its own
/// (`.route(X::PATH, routed(X, handler).layer(…))`).
pub fn routed<E: Endpoint, H: Handler<T, S>, T: 'static, S: Clone + Send + Sync + 'static>(
    _: E,
    handler: H,
) -> MethodRouter<S> {
    on(filter(E::METHOD), handler)
}

fn filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Delete => MethodFilter::DELETE,
    }
}
