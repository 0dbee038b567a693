//! The mobile shield (移动软盾), with the test acting as the phone app through
//! `certdesk_shared::shield_keys`: 远程下载 only of a mobile-shield application, the PIN the
//! server counts (the 10th wrong one locks), 证书解锁 by the SMS code of the phone of record,
//! the phone's storage that opens nothing without the server, and disabling a lost phone.

use certdesk::entity::mobile_shield::State;
use certdesk_shared::admin::{AuditEntry, AuditQuery, Page, StaffRole};
use certdesk_shared::agent::TokenKind;
use certdesk_shared::apply::{IssueForCsr, Medium};
use certdesk_shared::endpoint;
use certdesk_shared::my_certificates::MyCertificate;
use certdesk_shared::request::RequestStatus;
use certdesk_shared::shield::{
    PinOutcome, QrLoginScanned, QrLoginShown, ShieldChangePin, ShieldCodeSent, ShieldDevice, ShieldDisableByCode,
    ShieldEnrol, ShieldEnrolled, ShieldRenew, ShieldRenewFinish, ShieldRenewed, ShieldState, ShieldStatus,
    ShieldUnlock, ShieldUnseal,
};
use certdesk_shared::shield_keys::{b64, csr_pem, new_key, pin_key, pin_proof, random_bytes, unb64, unseal};
use certdesk_shared::{ErrorCode, OtpCode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, api_error, code_in, decode, last_sms, request_for, staff_browser};
use crate::helpers::issuing::csr;
use crate::helpers::shield::{PIN, approved, enrol, enrolled};
use crate::helpers::spawn_app;

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// The first field of an error answer that broke its rule.
fn first_field(v: &Value) -> Option<String> {
    api_error(v).fields.first().map(|f| f.field.clone())
}

/// What `/api/shield/unseal` and `/api/shield/pin` answered.
fn outcome(v: &Value) -> PinOutcome {
    decode(v)
}

fn public_key_of(pem: &str) -> Vec<u8> {
    let der = crate::helpers::ca::pem_to_der(pem);
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    cert.public_key().subject_public_key.data.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_downloads_a_mobile_shield_application_only_and_only_once() {
    let app = spawn_app().await;
    let (mut b, id, _, acceptance, code) = approved(&app, "mobile_shield").await;

    // The token agent does not download a mobile-shield application.
    let body = IssueForCsr {
        acceptance_no: acceptance.clone(),
        auth_code: code.clone(),
        csr_pem: csr(),
        medium_no: Some("UKEY-0001".into()),
        medium_kind: TokenKind::Ukey,
    };
    let (s, v) = Browser::new(&app).send::<endpoint::IssueForCsr>(&[], &body).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::MediumMismatch), "{v}");
    // Bad input changes nothing: a device key that is not 32 bytes.
    let bad = ShieldEnrol {
        acceptance_no: acceptance.clone(),
        auth_code: code.clone(),
        csr_pem: csr(),
        device_key: "AAAA".into(),
        pin_key: b64(&[0; 32]),
    };
    let (s, v) = Browser::new(&app).send::<endpoint::EnrolShield>(&[], &bad).await;
    assert_eq!((s, first_field(&v).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("device_key")), "{v}");
    let a = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(a.status, RequestStatus::Approved, "{a:?}");

    let (s, v, phone) = enrol(&app, &acceptance, &code).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let phone = phone.unwrap();
    let shield_id = phone.file.shield_id.clone();
    assert!(shield_id.starts_with("MS") && shield_id.len() == 12, "{shield_id}");
    let answer: ShieldEnrolled = decode(&v);
    assert_eq!(unb64(&answer.secret).unwrap().len(), 32);
    // The database keeps the secret sealed under the master secret, not as it was sent.
    use sea_orm::EntityTrait;
    let row = certdesk::entity::mobile_shield::Entity::find_by_id(shield_id.clone())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.state, row.failures, row.certificate_uid.as_str()), (State::Active, 0, phone.file.uid.as_str()));
    assert!(row.secret != answer.secret && !row.device_key_hash.contains(&phone.file.device_key));
    // Issued for the key made on the phone, which the released secret opens.
    let key = phone.key(&app).await;
    assert_eq!(public_key_of(&phone.file.certificate_pem), key.verifying_key().to_encoded_point(false).as_bytes());

    // 我的证书 shows it on the mobile shield, numbered by the shield.
    let mine = b.ok::<endpoint::ListMyCertificates>(&[], &()).await;
    let c = mine.iter().find(|c| c.uid == phone.file.uid).unwrap();
    assert_eq!(
        (c.panel.medium_no.as_deref(), c.medium, c.shield_state),
        (Some(shield_id.as_str()), Some(Medium::MobileShield), Some(ShieldState::Active)),
        "{c:?}"
    );
    let a = b.ok::<endpoint::GetApplication>(&[&id], &()).await;
    assert_eq!(a.status, RequestStatus::Issued, "{a:?}");

    // The same code does not download twice.
    let (s, v, _) = enrol(&app, &acceptance, &code).await;
    assert_eq!(code_of(&v), ErrorCode::AuthCodeInvalid, "{s} {v}");

    // A UKey application is not downloaded into the app.
    let (_, _, _, ukey_acceptance, ukey_code) = approved(&app, "ukey").await;
    let (s, v, _) = enrol(&app, &ukey_acceptance, &ukey_code).await;
    assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::MediumMismatch), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenth_wrong_pin_locks_and_the_code_of_the_phone_of_record_unlocks() {
    let app = spawn_app().await;
    let (_b, mut phone, mobile, _) = enrolled(&app).await;

    // A right PIN opens and signs.
    let key = phone.key(&app).await;
    let sig = certdesk_shared::shield_keys::sign(&key, b"m");
    assert!(!sig.is_empty());
    // A challenge works once.
    let (id, challenge) = phone.challenge(&app).await;
    let body = ShieldUnseal {
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        challenge_id: id,
        proof: pin_proof(&phone.pin_key(PIN), &challenge),
    };
    let (s, v) = Browser::new(&app).send::<endpoint::UnsealShield>(&[], &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(matches!(outcome(&v), PinOutcome::Opened { .. }), "{v}");
    let (s, v) = Browser::new(&app).send::<endpoint::UnsealShield>(&[], &body).await;
    assert_eq!((s, code_of(&v)), (StatusCode::NOT_FOUND, ErrorCode::NotFound), "{v}");
    // Another device key is not this shield.
    let other = ShieldDevice { shield_id: phone.file.shield_id.clone(), device_key: b64(&random_bytes(32)) };
    let (s, _) = Browser::new(&app).send::<endpoint::ShieldChallenge>(&[], &other).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Wrong PINs count down; a right one in between starts the count again.
    for left in [9, 8] {
        let (_, v) = phone.unseal(&app, "000000").await;
        assert_eq!(outcome(&v), PinOutcome::WrongPin { tries_left: left }, "{v}");
    }
    phone.key(&app).await;
    for left in (1..=9).rev() {
        let (_, v) = phone.unseal(&app, "000000").await;
        assert_eq!(outcome(&v), PinOutcome::WrongPin { tries_left: left }, "{v}");
    }
    let (_, v) = phone.unseal(&app, "000000").await;
    assert_eq!(outcome(&v), PinOutcome::Locked, "the 10th locks");
    let (_, v) = phone.unseal(&app, PIN).await;
    assert_eq!(outcome(&v), PinOutcome::Locked, "even the right PIN");
    let (_, st) = Browser::new(&app).send::<endpoint::ShieldStatus>(&[], &phone.device()).await;
    let st: ShieldStatus = decode(&st);
    assert_eq!((st.state, st.tries_left), (ShieldState::Locked, 0), "{st:?}");

    // 证书解锁: the code goes to the phone of record.
    let (s, v) = Browser::new(&app).send::<endpoint::SendShieldUnlockCode>(&[], &phone.device()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<ShieldCodeSent>(&v).masked_mobile, format!("{}****{}", &mobile[..3], &mobile[7..]));
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书解锁"), "{}", sms.body);
    let code = code_in(&sms.body);
    let new_salt = random_bytes(16);
    let new_key = b64(&pin_key("135790", &new_salt));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let unlock = |code: &str| ShieldUnlock {
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        code: OtpCode::parse(code).unwrap(),
        new_pin_key: new_key.clone(),
    };
    let (s, v) = Browser::new(&app).send::<endpoint::UnlockShield>(&[], &unlock(wrong)).await;
    assert_eq!(code_of(&v), ErrorCode::CodeInvalid, "{s} {v}");
    let (_, v) = phone.unseal(&app, PIN).await;
    assert_eq!(outcome(&v), PinOutcome::Locked, "a wrong code unlocks nothing");
    let (s, v) = Browser::new(&app).send::<endpoint::UnlockShield>(&[], &unlock(&code)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st: ShieldStatus = decode(&v);
    assert_eq!((st.state, st.tries_left), (ShieldState::Active, 10), "{v}");

    // The old PIN no longer opens; the new one does, and the same sealed key still opens.
    let (_, v) = phone.unseal(&app, PIN).await;
    assert_eq!(outcome(&v), PinOutcome::WrongPin { tries_left: 9 }, "{v}");
    phone.file.pin_salt = b64(&new_salt);
    phone.pin = "135790".into();
    assert_eq!(phone.key(&app).await.to_bytes(), key.to_bytes());

    // 修改PIN码: a wrong old PIN counts and changes nothing; the right one changes it.
    let change = |pin_key: [u8; 32], id: &str, challenge: &[u8], new: &str| ShieldChangePin {
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        challenge_id: id.to_owned(),
        proof: pin_proof(&pin_key, challenge),
        new_pin_key: new.to_owned(),
    };
    let newer = b64(&pin_key("97531", &new_salt));
    let (id, ch) = phone.challenge(&app).await;
    let (_, v) = Browser::new(&app)
        .send::<endpoint::ChangeShieldPin>(&[], &change(phone.pin_key("000000"), &id, &ch, &newer))
        .await;
    assert_eq!(outcome(&v), PinOutcome::WrongPin { tries_left: 9 }, "{v}");
    let (id, ch) = phone.challenge(&app).await;
    let (_, v) = Browser::new(&app)
        .send::<endpoint::ChangeShieldPin>(&[], &change(phone.pin_key("135790"), &id, &ch, &newer))
        .await;
    assert!(matches!(outcome(&v), PinOutcome::Opened { .. }), "{v}");
    let (_, v) = phone.unseal(&app, "135790").await;
    assert!(matches!(outcome(&v), PinOutcome::WrongPin { .. }), "{v}");
    phone.pin = "97531".into();
    phone.key(&app).await;

    // Each step is in the audit trail, with the shield's number and no secret.
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    let (_, trail) =
        admin.send::<endpoint::AuditTrail>(&[], &AuditQuery { per_page: Some(200), ..Default::default() }).await;
    let text = trail.to_string();
    let audit: Page<AuditEntry> = decode(&trail);
    for action in ["shield_enrolled", "shield_unsealed", "shield_pin_wrong", "shield_locked", "shield_unlocked"] {
        assert!(
            audit.items.iter().any(|e| e.action == action && e.subject == phone.file.shield_id),
            "{action}: {trail}"
        );
    }
    assert!(!text.contains(&new_key) && !text.contains(&phone.file.device_key), "no secret in the trail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phones_storage_and_the_right_pin_sign_nothing_without_the_server() {
    let app = spawn_app().await;
    let (_b, phone, _, _) = enrolled(&app).await;
    // Everything the phone stores, and the PIN, but not the server's secret: nothing opens
    // the sealed key (the PIN key is not the sealing key, nor is any guess).
    let pk = phone.pin_key(PIN);
    assert!(unseal(&pk, &phone.file.shield_id, &phone.file.sealed_key).is_none());
    assert!(unseal(&unb64(&phone.file.device_key).unwrap(), &phone.file.shield_id, &phone.file.sealed_key).is_none());
    for _ in 0..50 {
        assert!(unseal(&random_bytes(32), &phone.file.shield_id, &phone.file.sealed_key).is_none());
    }
    // So the best such a copy can do is sign with some other key: the server refuses it.
    let mut desktop = Browser::new(&app);
    let (s, shown) = desktop.send::<endpoint::ShowQrLogin>(&[], &()).await;
    assert_eq!(s, StatusCode::OK, "{shown}");
    let shown: QrLoginShown = decode(&shown);
    let id = shown.id.as_str();
    let (s, v) =
        Browser::new(&app).send::<endpoint::ScanQrLogin>(&[], &crate::helpers::shield::scan_body(&phone, id)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let m = shown.match_number;
    let scanned: QrLoginScanned = decode(&v);
    let forged = crate::helpers::shield::approve_body(&app, &phone, &scanned, m, &new_key());
    let (s, v) = Browser::new(&app).send::<endpoint::ApproveQrLogin>(&[], &forged).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNAUTHORIZED, ErrorCode::SignInFailed), "{v}");
    let p = desktop.ok::<endpoint::PollQrLogin>(&[id], &()).await;
    assert_eq!(p.status, certdesk_shared::shield::QrLoginStatus::Scanned, "{p:?}");
    assert!(desktop.cookie.as_deref().is_some_and(|c| c.starts_with("certdesk-qr=")), "no session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_phone_is_disabled_from_my_certificates_or_with_the_acceptance_number_and_code() {
    let app = spawn_app().await;
    let (mut holder, phone, _, _) = enrolled(&app).await;
    let uid = phone.file.uid.clone();
    // Another account's certificate is not found, and its shield stays active.
    let (mut other, _, _, _) = enrolled(&app).await;
    let (s, v) = other.send::<endpoint::DisableShield>(&[&uid], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::NOT_FOUND, ErrorCode::NotFound), "{v}");
    // Without the session's CSRF token: refused.
    let csrf = holder.csrf.take();
    let (s, _) = holder.send::<endpoint::DisableShield>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    holder.csrf = csrf;
    phone.key(&app).await;

    let (s, c) = holder.send::<endpoint::DisableShield>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(decode::<MyCertificate>(&c).shield_state, Some(ShieldState::Disabled), "{c}");
    for (method, path, body) in [
        request_for::<endpoint::ShieldChallenge>(&[], &phone.device()),
        request_for::<endpoint::SendShieldUnlockCode>(&[], &phone.device()),
    ] {
        let (s, v) = Browser::new(&app).call(method, &path, body).await;
        assert_eq!((s, code_of(&v)), (StatusCode::CONFLICT, ErrorCode::ShieldDisabled), "{path}: {v}");
    }
    let body = ShieldUnseal {
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        challenge_id: "x".into(),
        proof: "x".into(),
    };
    let (_, v) = Browser::new(&app).send::<endpoint::UnsealShield>(&[], &body).await;
    assert_eq!(code_of(&v), ErrorCode::ShieldDisabled, "{v}");
    let (_, st) = Browser::new(&app).send::<endpoint::ShieldStatus>(&[], &phone.device()).await;
    assert_eq!(decode::<ShieldStatus>(&st).state, ShieldState::Disabled, "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_signing_in_the_acceptance_number_and_the_code_of_the_phone_of_record_disable() {
    let app = spawn_app().await;
    let (_holder, phone, mobile, acceptance) = enrolled(&app).await;
    let ask_code = |acceptance_no: &str| ShieldDisableByCode { acceptance_no: acceptance_no.to_owned(), code: None };
    let (s, v) = Browser::new(&app).send::<endpoint::SendShieldDisableCode>(&[], &ask_code("NO-SUCH")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = Browser::new(&app).send::<endpoint::SendShieldDisableCode>(&[], &ask_code(&acceptance)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let code = code_in(&last_sms(&app, &mobile).await.unwrap().body);
    // No code, or a wrong one: nothing changes.
    let (s, v) = Browser::new(&app)
        .send_json::<endpoint::DisableShieldByCode>(&[], json!({ "acceptance_no": acceptance }))
        .await;
    assert_eq!((s, first_field(&v).as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")), "{v}");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let disable = |code: &str| ShieldDisableByCode {
        acceptance_no: acceptance.clone(),
        code: Some(OtpCode::parse(code).unwrap()),
    };
    let (_, v) = Browser::new(&app).send::<endpoint::DisableShieldByCode>(&[], &disable(wrong)).await;
    assert_eq!(code_of(&v), ErrorCode::CodeInvalid, "{v}");
    phone.key(&app).await;

    let (s, v) = Browser::new(&app).send::<endpoint::DisableShieldByCode>(&[], &disable(&code)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, v) = Browser::new(&app).send::<endpoint::ShieldChallenge>(&[], &phone.device()).await;
    assert_eq!(code_of(&v), ErrorCode::ShieldDisabled, "{v}");
    let (s, v) = Browser::new(&app).send::<endpoint::ShowQrLogin>(&[], &()).await;
    assert_eq!(s, StatusCode::OK);
    let scan = crate::helpers::shield::scan_body(&phone, &decode::<QrLoginShown>(&v).id);
    let (_, v) = Browser::new(&app).send::<endpoint::ScanQrLogin>(&[], &scan).await;
    assert_eq!(code_of(&v), ErrorCode::ShieldDisabled, "{v}");
    // Disabled is final: 证书解锁 does not open it again.
    let (_, v) = Browser::new(&app).send::<endpoint::SendShieldUnlockCode>(&[], &phone.device()).await;
    assert_eq!(code_of(&v), ErrorCode::ShieldDisabled, "{v}");
}

/// 证书更新(延期) in the app (seed 004 §4.2.5): the holder applies on the portal; the app sees
/// the renewal, makes a new key, proves the current key (opened with the PIN) over the CSR and
/// gets the renewed certificate onto the same shield; once stored, the old one is superseded
/// and the shield moves to the new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_is_downloaded_into_the_app_with_a_key_made_on_the_phone() {
    use certdesk::domain::{ClientMeta, renew};
    use certdesk::entity::{account, certificate, request};
    use certdesk_shared::shield::renewal_message;
    use certdesk_shared::shield_keys::sign;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let app = spawn_app().await;
    let (mut b, phone, mobile, _) = enrolled(&app).await;
    let db = &app.state.db;
    let cert = |uid: String| async move {
        certificate::Entity::find().filter(certificate::Column::Uid.eq(uid)).one(db).await.unwrap().unwrap()
    };
    let uid = phone.file.uid.clone();
    let old = cert(uid.clone()).await;
    let status = || async { Browser::new(&app).send::<endpoint::ShieldStatus>(&[], &phone.device()).await };
    let (s, v) = status().await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<ShieldStatus>(&v).renewal, None, "{v}");

    // ① on the portal, in the last 90 days (the domain with a later `now`): a settlement
    // customer's renewal is approved at once.
    let offer = b.ok::<endpoint::OfferRenewal>(&[&uid], &()).await;
    assert_eq!(offer.medium, Some(Medium::MobileShield), "{offer:?}");
    let period = offer.periods.iter().find(|p| p.years == 1).unwrap().clone();
    let who = account::Entity::find().filter(account::Column::Mobile.eq(&mobile)).one(db).await.unwrap().unwrap().id;
    let body = certdesk_shared::renew::StartRenewal { validity_id: period.id.clone() };
    let when = old.not_after - chrono::Duration::days(30);
    let r = renew::start(db, &app.state.audit_key, &who, &uid, &body, &ClientMeta::default(), when).await.unwrap();
    assert_eq!(r.status, request::Status::Approved);

    // The app sees it next to the certificate.
    let (_, v) = status().await;
    let renewal = decode::<ShieldStatus>(&v).renewal;
    assert_eq!(renewal.as_ref().map(|n| (n.request_id.as_str(), n.years)), Some((r.id.as_str(), 1)), "{v}");

    // A new key on the phone. Signed by anything but the current certificate's key: refused,
    // nothing issued.
    let new = new_key();
    let csr = csr_pem(&new).unwrap();
    let message = renewal_message(&phone.file.shield_id, &r.id, &csr);
    let ask = |signature: String| ShieldRenew {
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        request_id: r.id.clone(),
        csr_pem: csr.clone(),
        signature,
    };
    let (s, v) = Browser::new(&app).send::<endpoint::RenewShield>(&[], &ask(sign(&new, &message))).await;
    assert_eq!((s, code_of(&v)), (StatusCode::FORBIDDEN, ErrorCode::Forbidden), "{v}");
    let issued = request::Entity::find_by_id(r.id.clone()).one(db).await.unwrap().unwrap();
    assert_eq!((issued.status, issued.certificate_uid), (request::Status::Approved, None));
    // Another phone's device key names no shield.
    let mut stranger = ask(String::new());
    stranger.device_key = b64(&random_bytes(32));
    assert_eq!(Browser::new(&app).send::<endpoint::RenewShield>(&[], &stranger).await.0, StatusCode::NOT_FOUND);

    // The current key, opened with the PIN, signs: the renewal is issued for the phone's new
    // key, on the same shield number, with the subject kept and the period added.
    let current = phone.key(&app).await;
    let (s, v) = Browser::new(&app).send::<endpoint::RenewShield>(&[], &ask(sign(&current, &message))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let renewed: ShieldRenewed = decode(&v);
    let new_uid = renewed.uid.clone();
    assert_eq!(public_key_of(&renewed.certificate_pem), new.verifying_key().to_encoded_point(false).as_bytes());
    let renewed = cert(new_uid.clone()).await;
    assert_eq!(renewed.medium_no.as_deref(), Some(phone.file.shield_id.as_str()));
    assert_eq!(renewed.not_after, old.not_after + chrono::Duration::days(365));
    let subject = |der: &[u8]| x509_parser::parse_x509_certificate(der).unwrap().1.subject().as_raw().to_vec();
    assert_eq!(subject(&renewed.der), subject(&old.der));
    // Asked again (the app crashed before storing it): the same certificate.
    let (s, again) = Browser::new(&app).send::<endpoint::RenewShield>(&[], &ask(sign(&current, &message))).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(decode::<ShieldRenewed>(&again).uid, new_uid);
    // Until the phone has stored it, the old certificate stays valid and the renewal waits.
    assert_eq!(cert(uid.clone()).await.status, "valid");
    let (_, v) = status().await;
    let st: ShieldStatus = decode(&v);
    assert_eq!((st.uid.as_str(), st.renewal.map(|n| n.request_id)), (uid.as_str(), Some(r.id.clone())), "{v}");

    // Stored: the shield moves to the new certificate, the old one is superseded, the request
    // is done; again changes nothing.
    let finish = ShieldRenewFinish {
        shield_id: phone.file.shield_id.clone(),
        device_key: phone.file.device_key.clone(),
        request_id: r.id.clone(),
    };
    for _ in 0..2 {
        let (s, v) = Browser::new(&app).send::<endpoint::FinishShieldRenewal>(&[], &finish).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let st: ShieldStatus = decode(&v);
        assert_eq!((st.uid.as_str(), st.renewal), (new_uid.as_str(), None), "{v}");
    }
    let superseded = cert(uid.clone()).await;
    assert_eq!((superseded.status.as_str(), superseded.reason), ("revoked", Some(4)));
    assert_eq!(cert(new_uid.clone()).await.status, "valid");
    let done = request::Entity::find_by_id(r.id.clone()).one(db).await.unwrap().unwrap();
    assert_eq!(done.status, request::Status::Done);
    // 我的证书 shows the shield with the renewed certificate.
    let (s, c) = b.send::<endpoint::GetMyCertificate>(&[&new_uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let c: MyCertificate = decode(&c);
    assert_eq!((c.shield_state, c.medium), (Some(ShieldState::Active), Some(Medium::MobileShield)), "{c:?}");
}
