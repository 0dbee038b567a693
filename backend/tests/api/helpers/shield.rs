//! The mobile shield's phone app (through `certdesk_shared::shield_keys`): enrolment, the
//! PIN, the key it opens, and its QR-login requests.

use certdesk_shared::admin::StaffRole;
use certdesk_shared::shield::{ACTION_SIGN_IN, approval_message};
use certdesk_shared::shield_keys::{
    ShieldFile, b64, csr_pem, new_key, pin_key, pin_proof, random_bytes, seal, sign, unb64, unseal,
};
use p256::ecdsa::SigningKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, staff_browser};
use crate::helpers::issuing::{draft, info, person, submit_and_approve};

pub const PIN: &str = "246810";

/// The phone app: what it stores, and the PIN its user knows.
pub struct Phone {
    pub file: ShieldFile,
    pub pin: String,
}

impl Phone {
    pub fn device(&self) -> Value {
        json!({ "shield_id": self.file.shield_id, "device_key": self.file.device_key })
    }

    pub fn pin_key(&self, pin: &str) -> [u8; 32] {
        pin_key(pin, &unb64(&self.file.pin_salt).unwrap())
    }

    /// A PIN challenge: its id and bytes.
    pub async fn challenge(&self, app: &TestApp) -> (String, Vec<u8>) {
        let (s, v) = Browser::new(app).post("/api/shield/challenge", self.device()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        (v["challenge_id"].as_str().unwrap().to_owned(), unb64(v["challenge"].as_str().unwrap()).unwrap())
    }

    /// The proof of `pin` over a fresh challenge, sent to `/api/shield/unseal`.
    pub async fn unseal(&self, app: &TestApp, pin: &str) -> (StatusCode, Value) {
        let (id, challenge) = self.challenge(app).await;
        let body = json!({ "shield_id": self.file.shield_id, "device_key": self.file.device_key, "challenge_id": id,
                           "proof": pin_proof(&self.pin_key(pin), &challenge) });
        Browser::new(app).post("/api/shield/unseal", body).await
    }

    /// The certificate's key, opened with the secret the server releases for the right PIN.
    pub async fn key(&self, app: &TestApp) -> SigningKey {
        let (s, v) = self.unseal(app, &self.pin.clone()).await;
        assert_eq!((s, v["outcome"].as_str()), (StatusCode::OK, Some("opened")), "{v}");
        let secret = unb64(v["secret"].as_str().unwrap()).unwrap();
        unseal(&secret, &self.file.shield_id, &self.file.sealed_key).expect("the released secret opens the key")
    }
}

/// 远程下载 as the app does it: a key, a CSR, a device key and a PIN salt made here.
pub async fn enrol(app: &TestApp, acceptance: &str, auth_code: &str) -> (StatusCode, Value, Option<Phone>) {
    let key = new_key();
    let device_key = random_bytes(32);
    let salt = random_bytes(16);
    let body = json!({ "acceptance_no": acceptance, "auth_code": auth_code, "csr_pem": csr_pem(&key).unwrap(),
                       "device_key": b64(&device_key), "pin_key": b64(&pin_key(PIN, &salt)) });
    let (s, v) = Browser::new(app).post("/api/shield/enrol", body).await;
    if s != StatusCode::OK {
        return (s, v, None);
    }
    let shield_id = v["shield_id"].as_str().unwrap().to_owned();
    let secret = unb64(v["secret"].as_str().unwrap()).unwrap();
    let file = ShieldFile {
        sealed_key: seal(&secret, &shield_id, &key),
        shield_id,
        uid: v["uid"].as_str().unwrap().to_owned(),
        certificate_pem: v["certificate_pem"].as_str().unwrap().to_owned(),
        device_key: b64(&device_key),
        pin_salt: b64(&salt),
    };
    (s, v, Some(Phone { file, pin: PIN.to_owned() }))
}

/// An approved personal application on `medium`: the holder's browser, its id, phone,
/// acceptance number and authorization code.
pub async fn approved<'a>(app: &'a TestApp, medium: &str) -> (Browser<'a>, String, String, String, String) {
    let (mut admin, _) = staff_browser(app, StaffRole::Administrator).await;
    let (mut b, id, mobile) = draft(app, &mut admin, "personal", medium).await;
    let path = format!("/api/applications/{id}/certificate-info");
    let (s, v) = b.call(Method::PUT, &path, Some(info(person(), "personal-1y"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (acceptance, code) = submit_and_approve(app, &mut b, &id, &mobile).await;
    (b, id, mobile, acceptance, code)
}

/// A holder whose certificate is in the phone app: their browser, the phone, their mobile
/// and the acceptance number.
pub async fn enrolled(app: &TestApp) -> (Browser<'_>, Phone, String, String) {
    let (b, _, mobile, acceptance, code) = approved(app, "mobile_shield").await;
    let (s, v, phone) = enrol(app, &acceptance, &code).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (b, phone.unwrap(), mobile, acceptance)
}

pub fn scan_body(phone: &Phone, code: &str) -> Value {
    json!({ "code": format!("CERTDESK-LOGIN:{code}"), "shield_id": phone.file.shield_id,
            "device_key": phone.file.device_key })
}

/// The approval of a scanned transaction with `key`, picking `picked`.
pub fn approve_body(app: &TestApp, phone: &Phone, scanned: &Value, picked: u8, key: &SigningKey) -> Value {
    let origin = url::Url::parse(&app.state.config.public_url).unwrap().origin().ascii_serialization();
    let id = scanned["id"].as_str().unwrap();
    let message = approval_message(id, scanned["nonce"].as_str().unwrap(), &origin, ACTION_SIGN_IN, picked);
    json!({ "id": id, "shield_id": phone.file.shield_id, "device_key": phone.file.device_key,
            "match_number": picked, "signature": sign(key, &message) })
}
