//! The mobile shield's phone app (through `certdesk_shared::shield_keys`): enrolment, the
//! PIN, the key it opens, and its QR-login requests.

use certdesk_shared::admin::StaffRole;
use certdesk_shared::endpoint;
use certdesk_shared::shield::{
    ACTION_SIGN_IN, PinOutcome, QrLoginApprove, QrLoginScan, QrLoginScanned, ShieldChallenge, ShieldDevice,
    ShieldEnrol, ShieldEnrolled, ShieldUnseal, approval_message,
};
use certdesk_shared::shield_keys::{
    ShieldFile, b64, csr_pem, new_key, pin_key, pin_proof, random_bytes, seal, sign, unb64, unseal,
};
use p256::ecdsa::SigningKey;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, decode, staff_browser};
use crate::helpers::issuing::{draft, info, person, submit_and_approve};

pub const PIN: &str = "246810";

/// The phone app: what it stores, and the PIN its user knows.
pub struct Phone {
    pub file: ShieldFile,
    pub pin: String,
}

impl Phone {
    pub fn device(&self) -> ShieldDevice {
        ShieldDevice { shield_id: self.file.shield_id.clone(), device_key: self.file.device_key.clone() }
    }

    pub fn pin_key(&self, pin: &str) -> [u8; 32] {
        pin_key(pin, &unb64(&self.file.pin_salt).unwrap())
    }

    /// A PIN challenge: its id and bytes.
    pub async fn challenge(&self, app: &TestApp) -> (String, Vec<u8>) {
        let (s, v) = Browser::new(app).send::<endpoint::ShieldChallenge>(&[], &self.device()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let c: ShieldChallenge = decode(&v);
        (c.challenge_id, unb64(&c.challenge).unwrap())
    }

    /// The proof of `pin` over a fresh challenge, sent to `/api/shield/unseal`.
    pub async fn unseal(&self, app: &TestApp, pin: &str) -> (StatusCode, Value) {
        let (id, challenge) = self.challenge(app).await;
        let body = ShieldUnseal {
            shield_id: self.file.shield_id.clone(),
            device_key: self.file.device_key.clone(),
            challenge_id: id,
            proof: pin_proof(&self.pin_key(pin), &challenge),
        };
        Browser::new(app).send::<endpoint::UnsealShield>(&[], &body).await
    }

    /// The certificate's key, opened with the secret the server releases for the right PIN.
    pub async fn key(&self, app: &TestApp) -> SigningKey {
        let (s, v) = self.unseal(app, &self.pin.clone()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let PinOutcome::Opened { secret } = decode::<PinOutcome>(&v) else { panic!("not opened: {v}") };
        let secret = unb64(&secret).unwrap();
        unseal(&secret, &self.file.shield_id, &self.file.sealed_key).expect("the released secret opens the key")
    }
}

/// 远程下载 as the app does it: a key, a CSR, a device key and a PIN salt made here.
pub async fn enrol(app: &TestApp, acceptance: &str, auth_code: &str) -> (StatusCode, Value, Option<Phone>) {
    let key = new_key();
    let device_key = random_bytes(32);
    let salt = random_bytes(16);
    let body = ShieldEnrol {
        acceptance_no: acceptance.to_owned(),
        auth_code: auth_code.to_owned(),
        csr_pem: csr_pem(&key).unwrap(),
        device_key: b64(&device_key),
        pin_key: b64(&pin_key(PIN, &salt)),
    };
    let (s, v) = Browser::new(app).send::<endpoint::EnrolShield>(&[], &body).await;
    if s != StatusCode::OK {
        return (s, v, None);
    }
    let enrolled: ShieldEnrolled = decode(&v);
    let secret = unb64(&enrolled.secret).unwrap();
    let file = ShieldFile {
        sealed_key: seal(&secret, &enrolled.shield_id, &key),
        shield_id: enrolled.shield_id,
        uid: enrolled.uid,
        certificate_pem: enrolled.certificate_pem,
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
    let (s, v) = b.send::<endpoint::SaveCertificateInfo>(&[&id], &info(person(), "personal-1y")).await;
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

pub fn scan_body(phone: &Phone, code: &str) -> QrLoginScan {
    QrLoginScan {
        code: format!("CERTDESK-LOGIN:{code}"),
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
    }
}

/// The approval of a scanned transaction with `key`, picking `picked`.
pub fn approve_body(
    app: &TestApp,
    phone: &Phone,
    scanned: &QrLoginScanned,
    picked: u8,
    key: &SigningKey,
) -> QrLoginApprove {
    let origin = url::Url::parse(&app.state.config.public_url).unwrap().origin().ascii_serialization();
    let message = approval_message(&scanned.id, &scanned.nonce, &origin, ACTION_SIGN_IN, picked);
    QrLoginApprove {
        id: scanned.id.clone(),
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        match_number: picked,
        signature: sign(key, &message),
    }
}
