//! 证书延期: open only in a valid certificate's last 90 days and only to its holder; the new
//! certificate keeps the subject, runs to the old end plus the period bought, goes onto the
//! same token, and the old one is superseded only once the new one is stored; a renewal is
//! paid once however often the payment notification comes; staff review it when its type
//! says so. The last 90 days are reached by calling the domain with a later `now` — the
//! server itself has no way to be told another time.

use certdesk::domain::{ClientMeta, renew};
use certdesk::entity::{account, certificate, request};
use certdesk_shared::ErrorCode;
use certdesk_shared::admin::{QueueQuery, StaffRole};
use certdesk_shared::apply::{CertificateType, InvoiceView, Issued, TypeSettings};
use certdesk_shared::certificate::RevocationReason;
use certdesk_shared::directory::{CertificateDetail, PublicStatus, SelfRevocation};
use certdesk_shared::endpoint;
use certdesk_shared::renew::{NotOpen, RenewalCsr, RenewalOffer, StartRenewal};
use certdesk_shared::request::{RequestKind, RequestStatus, RequestView};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use x509_parser::prelude::*;

use crate::helpers::browser::{Browser, api_error, decode, last_sms, staff_browser};
use crate::helpers::issuing::{complete_draft, issue_into, submitted};
use crate::helpers::{TestApp, spawn_app};

async fn account_id(app: &TestApp, mobile: &str) -> String {
    account::Entity::find().filter(account::Column::Mobile.eq(mobile)).one(&app.state.db).await.unwrap().unwrap().id
}

async fn cert(app: &TestApp, uid: &str) -> certificate::Model {
    certificate::Entity::find().filter(certificate::Column::Uid.eq(uid)).one(&app.state.db).await.unwrap().unwrap()
}

fn csr_for(key: &rcgen::KeyPair) -> String {
    rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(key).unwrap().pem().unwrap()
}

fn subject_der(der: &[u8]) -> Vec<u8> {
    let (_, c) = parse_x509_certificate(der).unwrap();
    c.subject().as_raw().to_vec()
}

/// A moment inside the certificate's renewal window.
fn in_window(c: &certificate::Model) -> DateTime<Utc> {
    c.not_after - Duration::days(30)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_holder_renews_on_the_same_token_and_the_old_certificate_is_superseded_last() {
    let app = spawn_app().await;
    let (mut b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, serial, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0001")).await;
    let old = cert(&app, &uid).await;

    // Today the certificate is months from its end: the offer says from when, and a start
    // is refused with that reason and leaves nothing behind.
    let (s, offer) = b.send::<endpoint::OfferRenewal>(&[&uid], &()).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    let offer: RenewalOffer = decode(&offer);
    assert_eq!(offer.not_open, Some(NotOpen::TooEarly));
    let opens = DateTime::parse_from_rfc3339(&offer.opens_at).unwrap();
    assert_eq!(opens, old.not_after - Duration::days(90));
    assert_eq!(offer.medium_no.as_deref(), Some("UKEY-0001"));
    let period = offer.periods.iter().find(|p| p.years == 1).unwrap().clone();
    let start = StartRenewal { validity_id: period.id.clone() };
    let (s, v) = b.send::<endpoint::StartRenewal>(&[&uid], &start).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::CONFLICT, ErrorCode::RenewalNotOpen), "{v}");
    let renewals = || async {
        request::Entity::find()
            .filter(request::Column::Kind.eq(request::Kind::Renew))
            .all(&app.state.db)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(renewals().await, 0);

    // Another account does not find it at all.
    let (mut other, _) = crate::helpers::browser::registered(&app).await;
    assert_eq!(other.send::<endpoint::OfferRenewal>(&[&uid], &()).await.0, StatusCode::NOT_FOUND);
    let (s, _) = other.send::<endpoint::StartRenewal>(&[&uid], &start).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Thirty days before its end: a settlement customer goes straight on, approved by the
    // system (this type is not reviewed).
    let who = account_id(&app, &mobile).await;
    let db = &app.state.db;
    let body = StartRenewal { validity_id: period.id.clone() };
    let meta = ClientMeta::default();
    let r = renew::start(db, &app.state.audit_key, &who, &uid, &body, &meta, in_window(&old)).await.unwrap();
    assert_eq!((r.kind, r.status), (request::Kind::Renew, request::Status::Approved));
    assert!(r.acceptance_no.as_deref().is_some_and(|n| n.starts_with("BH")));
    assert_eq!(r.price_fen, Some(period.price_fen));
    // A second start returns the same renewal.
    let again = renew::start(db, &app.state.audit_key, &who, &uid, &body, &meta, in_window(&old)).await.unwrap();
    assert_eq!(again.id, r.id);
    assert_eq!(renewals().await, 1);

    // The customer's list shows it as 证书延期.
    let list = b.ok::<endpoint::ListApplications>(&[], &()).await;
    let listed = list.iter().find(|a| a.id == r.id).unwrap();
    assert_eq!((listed.kind, listed.from_certificate_uid.as_deref()), (RequestKind::Renew, Some(uid.as_str())));

    // ③ Another token is refused; the same token gets the new certificate.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let issue = |medium: &str| RenewalCsr { csr_pem: csr_for(&key), medium_no: medium.to_owned() };
    let (s, v) = b.send::<endpoint::IssueRenewal>(&[&r.id], &issue("UKEY-9999")).await;
    assert_eq!((s, api_error(&v).code), (StatusCode::CONFLICT, ErrorCode::WrongMedium), "{v}");
    assert_eq!(other.send::<endpoint::IssueRenewal>(&[&r.id], &issue("UKEY-0001")).await.0, StatusCode::NOT_FOUND);
    let (s, issued) = b.send::<endpoint::IssueRenewal>(&[&r.id], &issue("UKEY-0001")).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let new_uid = decode::<Issued>(&issued).certificate_uid;
    let new = cert(&app, &new_uid).await;
    assert_eq!(subject_der(&new.der), subject_der(&old.der), "the subject is kept");
    assert_eq!(new.not_after, old.not_after + Duration::days(365));
    assert_eq!((new.medium_no.as_deref(), new.profile.as_str()), (Some("UKEY-0001"), old.profile.as_str()));
    // The successor keeps the phone of record, written down for it: its own request (the
    // renewal) names no operator, so it would otherwise fall back to the account's phone.
    let kept =
        certdesk::entity::certificate_contact::Entity::find_by_id(new_uid.clone()).one(&app.state.db).await.unwrap();
    assert_eq!(kept.map(|c| c.mobile).as_deref(), Some(mobile.as_str()));
    // Until the token has it, the old certificate stays valid.
    assert_eq!(cert(&app, &uid).await.status, "valid");
    // A retry with the same key (a crash before the token stored it) gets the same one.
    let (s, retry) = b.send::<endpoint::IssueRenewal>(&[&r.id], &issue("UKEY-0001")).await;
    assert_eq!(s, StatusCode::OK, "{retry}");
    assert_eq!(decode::<Issued>(&retry).certificate_uid, new_uid);

    // Stored on the token: the old certificate is superseded, the request Done; again is a no-op.
    assert_eq!(other.send::<endpoint::FinishRenewal>(&[&r.id], &()).await.0, StatusCode::NOT_FOUND);
    let (s, done) = b.send::<endpoint::FinishRenewal>(&[&r.id], &()).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(decode::<RequestView>(&done).status, RequestStatus::Done, "{done}");
    let superseded = cert(&app, &uid).await;
    assert_eq!((superseded.status.as_str(), superseded.reason), ("revoked", Some(4)));
    assert_eq!(cert(&app, &new_uid).await.status, "valid");
    let (s, _) = b.send::<endpoint::FinishRenewal>(&[&r.id], &()).await;
    assert_eq!(s, StatusCode::OK);
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书延期") && sms.body.contains("已办理完成"), "{}", sms.body);

    // The public directory shows the old one revoked (superseded), the new one valid; the
    // new one is the holder's to renew in its turn.
    let mut anyone = Browser::new(&app);
    let d = anyone.ok::<endpoint::CertificateDetail>(&[&uid], &()).await;
    assert_eq!(d.status, PublicStatus::Revoked, "{d:?}");
    let offer = b.ok::<endpoint::OfferRenewal>(&[&new_uid], &()).await;
    assert_eq!(offer.not_open, Some(NotOpen::TooEarly));
    // The challenge phrase chosen when applying still revokes the successor.
    let revoke = SelfRevocation {
        challenge_phrase: crate::helpers::issuing::CHALLENGE_PHRASE.into(),
        reason: RevocationReason::KeyCompromise,
    };
    let (s, v) = anyone.send::<endpoint::RevokeByChallengePhrase>(&[&new_uid], &revoke).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<CertificateDetail>(&v).status, PublicStatus::Revoked, "{v}");
    let _ = serial;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_frozen_certificate_is_not_renewed() {
    let app = spawn_app().await;
    let (_b, mut admin, id, acceptance, mobile) = submitted(&app).await;
    let (uid, serial, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("UKEY-0002")).await;
    let old = cert(&app, &uid).await;
    let who = account_id(&app, &mobile).await;
    let db = &app.state.db;
    let offer = renew::offer(db, &who, &uid, in_window(&old)).await.unwrap();
    assert_eq!(offer.not_open, None);
    let body = StartRenewal { validity_id: offer.periods[0].id.clone() };
    let meta = ClientMeta::default();

    certdesk::ca::revoke::hold(db, &app.state.ca.issuing, &serial).await.unwrap();
    let refused = renew::start(db, &app.state.audit_key, &who, &uid, &body, &meta, in_window(&old)).await;
    assert!(matches!(refused, Err(certdesk::error::AppError::Code(certdesk_shared::ErrorCode::CertificateNotValid))));
    let offer = renew::offer(db, &who, &uid, in_window(&old)).await.unwrap();
    assert_eq!(offer.not_open, Some(certdesk_shared::renew::NotOpen::NotValid));

    certdesk::ca::revoke::revoke(db, &app.state.ca.issuing, &serial, RevocationReason::KeyCompromise, None)
        .await
        .unwrap();
    let refused = renew::start(db, &app.state.audit_key, &who, &uid, &body, &meta, in_window(&old)).await;
    assert!(matches!(refused, Err(certdesk::error::AppError::Code(certdesk_shared::ErrorCode::CertificateNotValid))));
    // After its end, too.
    certdesk::ca::revoke::release(db, &app.state.ca.issuing, &serial).await.ok();
    let after_end = old.not_after + Duration::days(1);
    assert_eq!(
        renew::offer(db, &who, &uid, after_end).await.unwrap().not_open,
        Some(certdesk_shared::renew::NotOpen::NotValid)
    );
    let none = request::Entity::find().filter(request::Column::Kind.eq(request::Kind::Renew)).all(db).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_to_pay_renewal_is_paid_once_and_goes_to_review_when_its_type_says_so() {
    let app = spawn_app().await;
    let (mut admin, _) = staff_browser(&app, StaffRole::Administrator).await;
    // A scan-to-pay customer's first certificate.
    let (mut b, id, mobile) = complete_draft(&app, &mut admin, false).await;
    crate::helpers::payment::pay(&app, &mut b, &id).await;
    let (s, v) = b.send::<endpoint::SubmitApplication>(&[&id], &()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let acceptance = decode::<RequestView>(&v).acceptance_no.expect("an acceptance number");
    let (uid, _, _, _) = issue_into(&app, &mut admin, &id, &acceptance, &mobile, Some("SHIELD-01")).await;
    let old = cert(&app, &uid).await;

    // Administrators have this type's renewals reviewed.
    let catalogue = admin.ok::<endpoint::FullCatalogue>(&[], &()).await;
    let t = catalogue[0].types.iter().find(|t| t.id == "org").unwrap().clone();
    let settings = TypeSettings { name: t.name, media: t.media, documents: t.documents, renewal_review: true };
    let (s, v) = admin.send::<endpoint::ChangeType>(&["org"], &settings).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(decode::<CertificateType>(&v).renewal_review, "{v}");

    let who = account_id(&app, &mobile).await;
    let db = &app.state.db;
    let offer = renew::offer(db, &who, &uid, in_window(&old)).await.unwrap();
    assert!(offer.review);
    let two_years = offer.periods.iter().find(|p| p.years == 2).unwrap().clone();
    let body = StartRenewal { validity_id: two_years.id.clone() };
    let meta = ClientMeta::default();
    let r = renew::start(db, &app.state.audit_key, &who, &uid, &body, &meta, in_window(&old)).await.unwrap();
    assert_eq!(r.status, request::Status::Draft);
    // Not paid: not submitted.
    let unpaid = renew::submit(db, &app.state.audit_key, &who, &r.id, &meta, in_window(&old)).await;
    assert!(matches!(unpaid, Err(certdesk::error::AppError::Code(certdesk_shared::ErrorCode::PaymentRequired))));

    // ② 扫码缴费, with the notification delivered twice: one payment.
    let order = crate::helpers::payment::pay(&app, &mut b, &r.id).await;
    assert_eq!(order.amount_fen, two_years.price_fen);
    crate::helpers::payment::replay_notification(&app, &order).await;
    let out_trade_no = order.out_trade_no.as_str();
    assert_eq!(crate::helpers::payment::payments_received(&app, out_trade_no).await, 1);

    let r = renew::submit(db, &app.state.audit_key, &who, &r.id, &meta, in_window(&old)).await.unwrap();
    assert_eq!(r.status, request::Status::Submitted);
    // One queue for every kind, filtered by 业务类型.
    let queue =
        admin.ok::<endpoint::ReviewQueue>(&[], &QueueQuery { kind: "renew".into(), ..Default::default() }).await;
    let items = &queue.items;
    assert_eq!(items.len(), 1, "{queue:?}");
    assert_eq!((items[0].request.kind, items[0].request.id.as_str()), (RequestKind::Renew, r.id.as_str()));
    let queue =
        admin.ok::<endpoint::ReviewQueue>(&[], &QueueQuery { kind: "apply".into(), ..Default::default() }).await;
    assert!(queue.items.iter().all(|i| i.request.kind == RequestKind::Apply));
    let (s, _) =
        admin.send::<endpoint::ReviewQueue>(&[], &QueueQuery { kind: "nonsense".into(), ..Default::default() }).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Not issued before approval.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = RenewalCsr { csr_pem: csr_for(&key), medium_no: "SHIELD-01".into() };
    assert_eq!(b.send::<endpoint::IssueRenewal>(&[&r.id], &csr).await.0, StatusCode::CONFLICT);
    let (s, v) = admin.send::<endpoint::Review>(&[&r.id], &crate::helpers::issuing::approve()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<RequestView>(&v).status, RequestStatus::Approved, "{v}");
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert!(sms.body.contains("证书延期") && sms.body.contains("审核通过"), "{}", sms.body);

    let (s, issued) = b.send::<endpoint::IssueRenewal>(&[&r.id], &csr).await;
    assert_eq!(s, StatusCode::OK, "{issued}");
    let new = cert(&app, &decode::<Issued>(&issued).certificate_uid).await;
    assert_eq!(new.not_after, old.not_after + Duration::days(730));
    let (s, _) = b.send::<endpoint::FinishRenewal>(&[&r.id], &()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(cert(&app, &uid).await.reason, Some(4));

    // An invoice can be asked for the renewal, for its price.
    let (s, v) = b.send::<endpoint::RequestInvoice>(&[&r.id], &crate::helpers::payment::invoice()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(decode::<InvoiceView>(&v).amount_fen, two_years.price_fen, "{v}");
}
