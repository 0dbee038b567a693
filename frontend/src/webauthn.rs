//! Security keys and passkeys through the browser's WebAuthn API (`navigator.credentials`).
//! webauthn-rs-proto converts the server's options into the browser's objects and the
//! browser's credential back into the JSON the server verifies.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

/// Why the browser gave no credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The user cancelled, or the prompt timed out (the browser does not say which).
    Cancelled,
    /// This authenticator holds a credential for the account already.
    AlreadyRegistered,
    /// The browser (or an insecure page) has no WebAuthn.
    Unsupported,
    /// Anything else the browser refused.
    Failed,
}

impl KeyError {
    /// From the name of the `DOMException` the promise was rejected with.
    pub fn from_dom_name(name: &str) -> KeyError {
        match name {
            "NotAllowedError" | "AbortError" => KeyError::Cancelled,
            "InvalidStateError" => KeyError::AlreadyRegistered,
            "NotSupportedError" => KeyError::Unsupported,
            _ => KeyError::Failed,
        }
    }
}

fn rejected(e: JsValue) -> KeyError {
    js_sys::Reflect::get(&e, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .map_or(KeyError::Failed, |n| KeyError::from_dom_name(&n))
}

fn credentials() -> Result<web_sys::CredentialsContainer, KeyError> {
    let window = leptos::prelude::window();
    let has = |target: &JsValue, name: &str| {
        js_sys::Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined() && !v.is_null())
    };
    let navigator = window.navigator();
    if !has(&window.clone().into(), "PublicKeyCredential") || !has(&navigator.clone().into(), "credentials") {
        return Err(KeyError::Unsupported);
    }
    Ok(navigator.credentials())
}

async fn settle(promise: Result<js_sys::Promise, JsValue>) -> Result<web_sys::PublicKeyCredential, KeyError> {
    let value = JsFuture::from(promise.map_err(rejected)?).await.map_err(rejected)?;
    value.dyn_into::<web_sys::PublicKeyCredential>().map_err(|_| KeyError::Cancelled)
}

/// `navigator.credentials.create`: registers a new key.
pub async fn create(options: CreationChallengeResponse) -> Result<RegisterPublicKeyCredential, KeyError> {
    let options: web_sys::CredentialCreationOptions = options.into();
    let credential = settle(credentials()?.create_with_options(&options)).await?;
    Ok(credential.into())
}

/// `navigator.credentials.get`: signs the server's challenge with a registered key.
pub async fn get(options: RequestChallengeResponse) -> Result<PublicKeyCredential, KeyError> {
    let options: web_sys::CredentialRequestOptions = options.into();
    let credential = settle(credentials()?.get_with_options(&options)).await?;
    Ok(credential.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_exceptions() {
        assert_eq!(KeyError::from_dom_name("NotAllowedError"), KeyError::Cancelled);
        assert_eq!(KeyError::from_dom_name("InvalidStateError"), KeyError::AlreadyRegistered);
        assert_eq!(KeyError::from_dom_name("NotSupportedError"), KeyError::Unsupported);
        assert_eq!(KeyError::from_dom_name("SecurityError"), KeyError::Failed);
    }
}
