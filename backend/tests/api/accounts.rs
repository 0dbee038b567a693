//! Accounts: registration with an SMS code, sign-in with captcha and throttles, sessions,
//! CSRF, the forgotten password, the user centre and the e-mail notice over real SMTP.

use certdesk::domain::codes;
use certdesk::entity::{account, one_time_code, outbox_message, throttle};
use certdesk_shared::account::{
    AGREEMENT_VERSION, AccountKind, ChangePasswordRequest, CodePurpose, KeyRegistrationChallenge, KeySignInChallenge,
    Profile, RegisterRequest, RemoveKeyRequest, ResetPasswordRequest, SendCodeRequest, SessionInfo, SignInMethod,
    SignInRequest, StartKeyRegistration, StartKeySignIn, UpdateProfileRequest,
};
use certdesk_shared::endpoint::{self, Endpoint};
use certdesk_shared::{ErrorCode, IdCardNumber, OrgName, OtpCode, Password, PersonName, ValidationError};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use serde_json::{Value, json};

use crate::helpers::browser::{
    Browser, ID_NUMBER, PASSWORD, api_error, captcha, code_request, decode, first_field, last_sms, mobile, new_mobile,
    registered, registration, send_code, send_code_request, sign_in, staff_browser, stored_key_for, to_json,
};
use crate::helpers::mail::{SmtpServer, mailparse_lite};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// An error answer's code.
fn code_of(v: &Value) -> ErrorCode {
    api_error(v).code
}

/// `POST /api/password-reset`'s body.
fn reset(
    id_number: &str,
    phone: &str,
    code: &str,
    new_password: &str,
    remove_security_keys: bool,
) -> ResetPasswordRequest {
    ResetPasswordRequest {
        id_number: IdCardNumber::parse(id_number).unwrap(),
        mobile: mobile(phone),
        code: OtpCode::parse(code).unwrap(),
        new_password: Password::parse(new_password).unwrap(),
        remove_security_keys,
    }
}

/// `POST /api/account/password`'s body.
fn new_password(current: &str, new: &str) -> ChangePasswordRequest {
    ChangePasswordRequest { current_password: current.to_owned(), new_password: Password::parse(new).unwrap() }
}

#[tokio::test]
async fn register_sign_out_and_sign_in_again() {
    let app = spawn_app().await;
    let (mut b, mobile) = registered(&app).await;
    let (status, me) = b.send::<endpoint::CurrentSession>(&[], &()).await;
    assert_eq!(status, StatusCode::OK);
    let info: SessionInfo = decode(&me);
    assert_eq!(info.account.mobile, mobile);
    assert_eq!(info.account.id_number, "1101**********002X");
    assert_eq!(info.account.agreement_version, AGREEMENT_VERSION);
    assert_eq!(info.account.org_name.as_deref(), Some("天津滨海测试有限公司"));

    // The password is stored as argon2id, never as given.
    let row =
        account::Entity::find().filter(account::Column::Mobile.eq(&mobile)).one(&app.state.db).await.unwrap().unwrap();
    assert!(row.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));

    let old_cookie = b.cookie.clone();
    let (status, _) = b.send::<endpoint::SignOut>(&[], &()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(b.cookie.is_none());
    // The old cookie opens nothing: the session ended on the server.
    b.cookie = old_cookie;
    assert_eq!(b.send::<endpoint::CurrentSession>(&[], &()).await.0, StatusCode::UNAUTHORIZED);

    let mut b = Browser::new(&app);
    let (status, v) = sign_in(&mut b, &mobile, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(decode::<SessionInfo>(&v).account.mobile, mobile);
    assert_eq!(b.send::<endpoint::CurrentSession>(&[], &()).await.0, StatusCode::OK);
    let history = b.ok::<endpoint::ListSignIns>(&[], &()).await;
    let methods: Vec<Option<SignInMethod>> = history.iter().map(|r| r.method).collect();
    assert_eq!(methods, [Some(SignInMethod::Password), Some(SignInMethod::Registration)]);
    assert_eq!(history[0].address, "127.0.0.1");
}

#[tokio::test]
async fn each_account_type_requires_its_own_fields_and_a_phone_has_one_account() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let mobile = new_mobile();
    let code = send_code(&mut b, &mobile, "register").await;

    // A missing field, a bad ID number and a common password: what no `RegisterRequest` holds.
    let mut no_credit = to_json(registration(&mobile, &code));
    no_credit.as_object_mut().unwrap().remove("credit_code");
    let (status, v) = b.send_json::<endpoint::Register>(&[], no_credit).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&v), Some(("credit_code".to_owned(), ValidationError::Required)), "{v}");

    let mut bad_id = to_json(registration(&mobile, &code));
    bad_id["id_number"] = "12010619910202131X".into();
    let (status, v) = b.send_json::<endpoint::Register>(&[], bad_id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&v).map(|f| f.0).as_deref(), Some("id_number"), "{v}");

    let mut common = to_json(registration(&mobile, &code));
    common["password"] = "Password1".into();
    let (_, v) = b.send_json::<endpoint::Register>(&[], common).await;
    assert_eq!(first_field(&v).map(|f| f.1), Some(ValidationError::PasswordCommon), "{v}");

    let old_terms = RegisterRequest { agreement_version: "2019-01".into(), ..registration(&mobile, &code) };
    let (_, v) = b.send::<endpoint::Register>(&[], &old_terms).await;
    assert_eq!(first_field(&v).map(|f| f.1), Some(ValidationError::AgreementRequired), "{v}");

    // None of those used up the code or left an account behind.
    assert!(
        account::Entity::find().filter(account::Column::Mobile.eq(&mobile)).one(&app.state.db).await.unwrap().is_none()
    );
    let personal = RegisterRequest {
        kind: AccountKind::Personal,
        org_name: None,
        credit_code: None,
        name: PersonName::parse("李四").unwrap(),
        email: None,
        ..registration(&mobile, &code)
    };
    let (status, v) = b.send::<endpoint::Register>(&[], &personal).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let account = decode::<SessionInfo>(&v).account;
    assert_eq!(account.kind, AccountKind::Personal);
    assert!(account.org_name.is_none());

    // A second registration for the phone: the SMS says it is registered, and no code comes.
    let mut other = Browser::new(&app);
    let (status, _) =
        other.send::<endpoint::SendCode>(&[], &send_code_request(&app, &mobile, CodePurpose::Register).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "one send per phone per minute");
    sqlx_age_codes(&app, &mobile).await;
    let (status, _) =
        other.send::<endpoint::SendCode>(&[], &send_code_request(&app, &mobile, CodePurpose::Register).await).await;
    assert_eq!(status, StatusCode::OK);
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert_eq!(sms.template, "SMS_CD_REGISTERED");
    assert!(sms.body.starts_with("【CertDesk】") && !sms.body.contains("验证码："));
}

/// Moves the per-minute resend window into the past.
async fn sqlx_age_codes(app: &TestApp, mobile: &str) {
    for row in throttle::Entity::find().all(&app.state.db).await.unwrap() {
        if row.bucket.contains(mobile) {
            let mut a: throttle::ActiveModel = row.into();
            a.window_start = Set(Utc::now() - Duration::minutes(2));
            a.update(&app.state.db).await.unwrap();
        }
    }
}

#[tokio::test]
async fn codes_are_single_use_bound_to_their_purpose_expire_and_allow_five_tries() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let mobile = new_mobile();
    let code = send_code(&mut b, &mobile, "register").await;

    let stored = one_time_code::Entity::find()
        .filter(one_time_code::Column::Mobile.eq(&mobile))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.code_hash, code, "stored hashed");
    assert!(!stored.code_hash.contains(&code));

    // Five wrong tries use the code up: the right one is refused afterwards.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let (status, v) = b.send::<endpoint::Register>(&[], &registration(&mobile, wrong)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code_of(&v), ErrorCode::CodeInvalid);
    }
    let (_, v) = b.send::<endpoint::Register>(&[], &registration(&mobile, &code)).await;
    assert_eq!(code_of(&v), ErrorCode::CodeInvalid);

    // A reset code does not register.
    sqlx_age_codes(&app, &mobile).await;
    let code = send_code(&mut b, &mobile, "register").await;
    let body = send_code_request(&app, &mobile, CodePurpose::ResetPassword).await;
    let (status, _) = b.send::<endpoint::SendCode>(&[], &body).await;
    assert_eq!(status, StatusCode::OK, "no account yet: same answer, no SMS");
    assert_eq!(last_sms(&app, &mobile).await.unwrap().template, "SMS_CD_REGISTER");

    // An expired code is refused.
    let row = one_time_code::Entity::find()
        .filter(one_time_code::Column::Mobile.eq(&mobile))
        .filter(one_time_code::Column::Purpose.eq("register"))
        .filter(one_time_code::Column::UsedAt.is_null())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut a: one_time_code::ActiveModel = row.clone().into();
    a.expires_at = Set(Utc::now() - Duration::seconds(1));
    a.update(&app.state.db).await.unwrap();
    let (_, v) = b.send::<endpoint::Register>(&[], &registration(&mobile, &code)).await;
    assert_eq!(code_of(&v), ErrorCode::CodeInvalid);
    let mut a: one_time_code::ActiveModel = row.into();
    a.expires_at = Set(Utc::now() + Duration::minutes(5));
    a.update(&app.state.db).await.unwrap();

    // Used once, then never again.
    assert_eq!(b.send::<endpoint::Register>(&[], &registration(&mobile, &code)).await.0, StatusCode::OK);
    let mut again = Browser::new(&app);
    let (_, v) = again.send::<endpoint::Register>(&[], &registration(&mobile, &code)).await;
    assert_eq!(code_of(&v), ErrorCode::CodeInvalid);
}

#[tokio::test]
async fn the_sandbox_gateway_refuses_what_the_vendor_refuses() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    // The sandbox treats the 170 block as unreachable numbers.
    let body = send_code_request(&app, "17012345678", CodePurpose::Register).await;
    let (status, v) = b.send::<endpoint::SendCode>(&[], &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&v).map(|f| f.0).as_deref(), Some("mobile"), "{v}");
    assert!(last_sms(&app, "17012345678").await.is_none());
    // Ten digits: no `Mobile` holds it.
    let (status, v) = b.send_json::<endpoint::SendCode>(&[], code_request(&app, "1380013800", "register").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&v).map(|f| f.1), Some(ValidationError::MobileFormat), "{v}");
}

#[tokio::test]
async fn sign_in_needs_the_captcha_says_one_thing_for_any_failure_and_locks() {
    let app = spawn_app().await;
    let (_, mobile) = registered(&app).await;
    let mut b = Browser::new(&app);

    // A wrong captcha, then the same captcha again with the right answer: both refused.
    let (id, answer) = captcha(&app).await;
    let form = |id: &str, a: &str, agreed: bool| SignInRequest {
        mobile: mobile.clone(),
        password: PASSWORD.to_owned(),
        captcha_id: id.to_owned(),
        captcha_answer: a.to_owned(),
        agreed,
    };
    // '0' is not in the captcha alphabet, so this answer is always wrong.
    let (status, v) = b.send::<endpoint::SignIn>(&[], &form(&id, "00000", true)).await;
    assert_eq!((status, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CaptchaInvalid));
    let (_, v) = b.send::<endpoint::SignIn>(&[], &form(&id, &answer, true)).await;
    assert_eq!(code_of(&v), ErrorCode::CaptchaInvalid);

    // Not ticking the agreement is refused.
    let (id, answer) = captcha(&app).await;
    let (_, v) = b.send::<endpoint::SignIn>(&[], &form(&id, &answer, false)).await;
    assert_eq!(first_field(&v).map(|f| f.1), Some(ValidationError::AgreementRequired), "{v}");

    // Unknown account and wrong password: the same status and body.
    let (s1, unknown) = sign_in(&mut b, &new_mobile(), PASSWORD).await;
    let (s2, wrong) = sign_in(&mut b, &mobile, "not the password").await;
    assert_eq!((s1, s2), (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED));
    assert_eq!(unknown, wrong);
    assert_eq!(code_of(&wrong), ErrorCode::SignInFailed);

    // Two more failures (3 in all), then the account waits before the next try.
    sign_in(&mut b, &mobile, "not the password").await;
    let (_, v) = sign_in(&mut b, &mobile, "not the password").await;
    assert_eq!(code_of(&v), ErrorCode::SignInFailed);
    let (status, v) = sign_in(&mut b, &mobile, PASSWORD).await;
    assert_eq!((status, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::AccountLocked), "delayed");
    // Past the delay, two more failures lock it even for the right password.
    for _ in 0..2 {
        age_throttle(&app, &mobile, Duration::seconds(30)).await;
        sign_in(&mut b, &mobile, "not the password").await;
    }
    age_throttle(&app, &mobile, Duration::seconds(30)).await;
    let (status, v) = sign_in(&mut b, &mobile, PASSWORD).await;
    assert_eq!((status, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::AccountLocked));
}

#[tokio::test]
async fn an_unknown_phone_locks_the_same_way() {
    let app = spawn_app().await;
    let mut b = Browser::new(&app);
    let stranger = new_mobile();
    for _ in 0..5 {
        age_throttle(&app, &stranger, Duration::seconds(30)).await;
        let (_, v) = sign_in(&mut b, &stranger, "whatever it is").await;
        assert_eq!(code_of(&v), ErrorCode::SignInFailed);
    }
    age_throttle(&app, &stranger, Duration::seconds(30)).await;
    let (_, v) = sign_in(&mut b, &stranger, "whatever it is").await;
    assert_eq!(code_of(&v), ErrorCode::AccountLocked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_are_counted_before_any_is_checked() {
    let app = spawn_app().await;
    let (_, mobile) = registered(&app).await;
    let mut tries = Vec::new();
    for _ in 0..12 {
        tries.push(captcha(&app).await);
    }
    let answers = futures_join(tries.into_iter().map(|(id, answer)| {
        let client = app.client.clone();
        let url = app.url(&endpoint::SignIn::path(&[]));
        let mobile = mobile.clone();
        async move {
            let guess = SignInRequest {
                mobile,
                password: "a wrong guess".into(),
                captcha_id: id,
                captcha_answer: answer,
                agreed: true,
            };
            let res = client.post(url).json(&guess).send().await.unwrap();
            let v: Value = res.json().await.unwrap();
            code_of(&v)
        }
    }))
    .await;
    let checked = answers.iter().filter(|c| **c == ErrorCode::SignInFailed).count();
    // Waits start after the 3rd failure: twelve guesses at once get at most three checks.
    assert!((1..=3).contains(&checked), "{answers:?}");
    assert!(answers.iter().all(|c| *c == ErrorCode::SignInFailed || *c == ErrorCode::AccountLocked), "{answers:?}");
}

async fn futures_join<F: std::future::Future<Output = ErrorCode> + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<ErrorCode> {
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Moves the last failure of a phone's sign-in counter into the past (not the lock).
async fn age_throttle(app: &TestApp, mobile: &str, by: Duration) {
    if let Some(row) =
        throttle::Entity::find_by_id(format!("sign_in:mobile:{mobile}")).one(&app.state.db).await.unwrap()
    {
        let last = row.last_failure_at;
        let mut a: throttle::ActiveModel = row.into();
        a.last_failure_at = Set(last - by);
        a.update(&app.state.db).await.unwrap();
    }
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token_and_the_same_origin() {
    let app = spawn_app().await;
    let (mut b, _) = registered(&app).await;
    let token = b.csrf.take();
    let (status, v) = b.send::<endpoint::SignOutOthers>(&[], &()).await;
    assert_eq!((status, code_of(&v)), (StatusCode::FORBIDDEN, ErrorCode::CsrfInvalid));
    b.csrf = Some("not-the-token".into());
    assert_eq!(b.send::<endpoint::SignOutOthers>(&[], &()).await.0, StatusCode::FORBIDDEN);
    b.csrf = token;
    assert_eq!(b.send::<endpoint::SignOutOthers>(&[], &()).await.0, StatusCode::OK);

    // A page on another site cannot post even the sign-in form.
    let form = SignInRequest {
        mobile: "13800138000".into(),
        password: "x".into(),
        captcha_id: "x".into(),
        captcha_answer: "x".into(),
        agreed: true,
    };
    let res = app
        .client
        .post(app.url(&endpoint::SignIn::path(&[])))
        .header("origin", "https://evil.example")
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // (Without a captcha: the origin check comes first.)
    let res = app
        .client
        .post(app.url(&endpoint::SendCode::path(&[])))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "mobile": "13800138000", "purpose": "register" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// `POST /api/codes` from `address` (the server trusts X-Forwarded-For in these tests).
async fn code_from(app: &TestApp, address: &str, body: &impl Serialize) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(&endpoint::SendCode::path(&[])))
        .header("x-forwarded-for", address)
        .json(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_need_the_captcha_and_an_ipv6_64_counts_as_one_address() {
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let mobile = new_mobile();
    // Without a captcha, or with a wrong answer, no SMS goes out.
    let (s, v) = code_from(&app, "198.51.100.1", &json!({ "mobile": mobile, "purpose": "register" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (captcha_id, answer) = captcha(&app).await;
    let with_answer = |captcha_answer: &str| SendCodeRequest {
        mobile: certdesk_shared::Mobile::parse(&mobile).unwrap(),
        purpose: CodePurpose::Register,
        captcha_id: captcha_id.clone(),
        captcha_answer: captcha_answer.to_owned(),
    };
    let (s, v) = code_from(&app, "198.51.100.1", &with_answer("XXXXX")).await;
    assert_eq!((s, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::CaptchaInvalid), "{v}");
    // A captcha answers once: the right answer after a wrong one is too late.
    assert_eq!(code_of(&code_from(&app, "198.51.100.1", &with_answer(&answer)).await.1), ErrorCode::CaptchaInvalid);
    assert!(last_sms(&app, &mobile).await.is_none());
    let ok = send_code_request(&app, &mobile, CodePurpose::Register).await;
    assert_eq!(code_from(&app, "198.51.100.1", &ok).await.0, StatusCode::OK);
    assert!(last_sms(&app, &mobile).await.is_some());

    // Twenty codes an hour per address, and every address of one IPv6 /64 is that address.
    for i in 0..codes::PER_ADDRESS_PER_HOUR {
        let body = send_code_request(&app, &new_mobile(), CodePurpose::Register).await;
        let (s, v) = code_from(&app, &format!("2001:db8:7:8::{:x}", i + 1), &body).await;
        assert_eq!(s, StatusCode::OK, "{i}: {v}");
    }
    let phone = new_mobile();
    let body = send_code_request(&app, &phone, CodePurpose::Register).await;
    let (s, v) = code_from(&app, "2001:db8:7:8:ffff:1:2:3", &body).await;
    assert_eq!((s, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited), "{v}");
    assert!(last_sms(&app, &phone).await.is_none());
    // The next /64 is someone else.
    let body = send_code_request(&app, &phone, CodePurpose::Register).await;
    assert_eq!(code_from(&app, "2001:db8:7:9::1", &body).await.0, StatusCode::OK);
}

#[tokio::test]
async fn change_password_ends_other_sessions_and_reset_by_sms_ends_all() {
    let app = spawn_app().await;
    let (mut first, mobile) = registered(&app).await;
    let mut second = Browser::new(&app);
    assert_eq!(sign_in(&mut second, &mobile, PASSWORD).await.0, StatusCode::OK);

    let (status, v) =
        first.send::<endpoint::ChangePassword>(&[], &new_password("wrong one", "a brand new passphrase")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&v).map(|f| f.1), Some(ValidationError::PasswordWrong), "{v}");
    // Too short for a `Password`.
    let (_, v) = first
        .send_json::<endpoint::ChangePassword>(&[], json!({ "current_password": PASSWORD, "new_password": "short" }))
        .await;
    assert_eq!(first_field(&v).map(|f| f.1), Some(ValidationError::PasswordLength), "{v}");
    let (status, _) =
        first.send::<endpoint::ChangePassword>(&[], &new_password(PASSWORD, "a brand new passphrase")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(first.send::<endpoint::CurrentSession>(&[], &()).await.0, StatusCode::OK, "this session stays");
    assert_eq!(
        second.send::<endpoint::CurrentSession>(&[], &()).await.0,
        StatusCode::UNAUTHORIZED,
        "the other one ended"
    );
    assert_eq!(last_sms(&app, &mobile).await.unwrap().template, "SMS_CD_PASSWORD");

    // Forgotten password: ID number + phone + SMS code; the user picks the new password.
    let mut anon = Browser::new(&app);
    let code = send_code(&mut anon, &mobile, "reset_password").await;
    let body = reset("110101199003074477", &mobile, &code, "yet another passphrase", false);
    let (status, v) = anon.send::<endpoint::ResetPassword>(&[], &body).await;
    assert_eq!((status, code_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::IdentityMismatch));
    sqlx_age_codes(&app, &mobile).await;
    let code = send_code(&mut anon, &mobile, "reset_password").await;
    let body = reset(ID_NUMBER, &mobile, &code, "yet another passphrase", false);
    let (status, v) = anon.send::<endpoint::ResetPassword>(&[], &body).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        first.send::<endpoint::CurrentSession>(&[], &()).await.0,
        StatusCode::UNAUTHORIZED,
        "every session ended"
    );
    // No SMS carries a password.
    for m in outbox_message::Entity::find()
        .filter(outbox_message::Column::Recipient.eq(&mobile))
        .all(&app.state.db)
        .await
        .unwrap()
    {
        assert!(!m.body.contains("yet another passphrase") && !m.body.contains(PASSWORD));
    }
    let mut b = Browser::new(&app);
    assert_eq!(sign_in(&mut b, &mobile, "a brand new passphrase").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&mut b, &mobile, "yet another passphrase").await.0, StatusCode::OK);
}

#[tokio::test]
async fn profile_edits_keep_the_user_name_and_sessions_time_out() {
    let app = spawn_app().await;
    let (mut b, mobile) = registered(&app).await;
    let edit = UpdateProfileRequest {
        org_name: Some(OrgName::parse("天津滨海新测试有限公司").unwrap()),
        name: PersonName::parse("王五").unwrap(),
        email: None,
    };
    let (status, v) = b.send::<endpoint::UpdateProfile>(&[], &edit).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let profile: Profile = decode(&v);
    assert_eq!(profile.name, "王五");
    assert_eq!(profile.mobile, mobile);
    assert!(profile.email.is_none());
    // Without the unit's name (the field left out).
    let (status, v) = b.send_json::<endpoint::UpdateProfile>(&[], json!({ "name": "王五" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(first_field(&v).map(|f| f.0).as_deref(), Some("org_name"), "{v}");

    // Idle for 31 minutes: the session is over.
    let row = certdesk::entity::session::Entity::find().one(&app.state.db).await.unwrap().unwrap();
    let mut a: certdesk::entity::session::ActiveModel = row.into();
    a.last_seen_at = Set(Utc::now() - Duration::minutes(31));
    a.update(&app.state.db).await.unwrap();
    assert_eq!(b.send::<endpoint::CurrentSession>(&[], &()).await.0, StatusCode::UNAUTHORIZED);
}

/// A key of the account's, stored directly (the browser tests register real ones).
async fn stored_key(app: &TestApp, b: &mut Browser<'_>, name: &str) -> String {
    let me = b.ok::<endpoint::CurrentSession>(&[], &()).await;
    stored_key_for(app, "customer", &me.account.id, name).await
}

async fn key_exists(app: &TestApp, id: &str) -> bool {
    certdesk::entity::webauthn_credential::Entity::find_by_id(id.to_owned()).one(&app.state.db).await.unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_added_or_removed_only_with_the_password_and_the_owner_is_told() {
    let app = spawn_app().await;
    let (mut b, mobile) = registered(&app).await;
    // An open session is not enough to add a way in.
    let start = |password: &str| StartKeyRegistration { name: "新密钥".into(), password: password.to_owned() };
    for (password, error) in [("", ValidationError::Required), ("not my password", ValidationError::PasswordWrong)] {
        let (s, v) = b.send::<endpoint::StartKeyRegistration>(&[], &start(password)).await;
        assert_eq!(
            (s, first_field(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(("password".to_owned(), error))),
            "{v}"
        );
    }
    let (s, v) = b.send::<endpoint::StartKeyRegistration>(&[], &start(PASSWORD)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!decode::<KeyRegistrationChallenge>(&v).options.public_key.challenge.is_empty(), "{v}");

    // Nor to take one away; with the password it goes, and an SMS says so.
    let key = stored_key(&app, &mut b, "办公室密钥").await;
    let remove = |password: &str| RemoveKeyRequest { password: password.to_owned() };
    let (s, v) = b.send::<endpoint::RemoveKey>(&[&key], &remove("not my password")).await;
    let error = first_field(&v).map(|f| f.1);
    assert_eq!((s, error), (StatusCode::UNPROCESSABLE_ENTITY, Some(ValidationError::PasswordWrong)));
    assert!(key_exists(&app, &key).await);
    let (s, _) = b.send::<endpoint::RemoveKey>(&[&key], &remove(PASSWORD)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(!key_exists(&app, &key).await);
    let sms = last_sms(&app, &mobile).await.unwrap();
    assert_eq!(sms.template, "SMS_CD_KEY");
    assert!(sms.body.contains("已删除一个安全密钥"), "{}", sms.body);
    // The old route without the password is gone.
    let other = stored_key(&app, &mut b, "另一个").await;
    assert_ne!(b.call(Method::DELETE, &format!("/api/account/keys/{other}"), None).await.0, StatusCode::NO_CONTENT);
    assert!(key_exists(&app, &other).await);

    // A password reset can take every key away (one may be the thief's).
    let mut anon = Browser::new(&app);
    let code = send_code(&mut anon, &mobile, "reset_password").await;
    let body = reset(ID_NUMBER, &mobile, &code, "找回以后的新密码 2026", true);
    let (s, v) = anon.send::<endpoint::ResetPassword>(&[], &body).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert!(!key_exists(&app, &other).await);
}

#[tokio::test]
async fn a_customer_cannot_touch_another_customers_keys() {
    let app = spawn_app().await;
    let (mut alice, _) = registered(&app).await;
    let (mut bob, _) = registered(&app).await;
    let me = alice.ok::<endpoint::CurrentSession>(&[], &()).await;
    let alice_id = me.account.id;
    // A key of Alice's, stored directly (the browser tests register real ones).
    let key = certdesk::entity::webauthn_credential::ActiveModel {
        id: Set(uuid::Uuid::new_v4().to_string()),
        owner_kind: Set("customer".into()),
        owner_id: Set(alice_id),
        credential_id: Set("alice-credential".into()),
        passkey: Set("{}".into()),
        name: Set("Alice's key".into()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let v = bob.ok::<endpoint::ListKeys>(&[], &()).await;
    assert_eq!(v.len(), 0, "{v:?}");
    let body = RemoveKeyRequest { password: PASSWORD.to_owned() };
    let (status, _) = bob.send::<endpoint::RemoveKey>(&[&key.id], &body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        certdesk::entity::webauthn_credential::Entity::find_by_id(key.id.clone())
            .one(&app.state.db)
            .await
            .unwrap()
            .is_some()
    );
    // Passwordless sign-in for an unknown phone gets a challenge shaped like a real one.
    let (status, v) = alice.send::<endpoint::StartKeySignIn>(&[], &StartKeySignIn { mobile: new_mobile() }).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decode::<KeySignInChallenge>(&v).options.public_key.allow_credentials.len(), 1, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_notice_goes_over_real_smtp() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(|c| c.smtp_url = Some(smtp.url())).await;
    let (mut b, _) = registered(&app).await;
    let (status, _) = b.send::<endpoint::ChangePassword>(&[], &new_password(PASSWORD, "a brand new passphrase")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut found = None;
    for _ in 0..50 {
        if let Some(message) = smtp.received().pop() {
            found = Some(message);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(smtp);
    let raw = found.expect("a message in the maildir");
    assert!(raw.contains("To: zhangsan@example.com"), "{raw}");
    assert!(raw.contains("Subject: CertDesk =?utf-8?"), "{raw}");
    // The body is UTF-8 (quoted-printable or base64): decode and look for the Chinese text.
    let parsed = mailparse_lite(&raw);
    assert!(parsed.contains("登录密码已于") && parsed.contains("张三"), "{parsed}");
}

/// Anonymous requests that write a row (a captcha, a security-key sign-in start, customer's
/// or staff's) are counted per address (an IPv6 /64), and an account's drafts and uploads
/// are limited too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_writes_and_an_accounts_drafts_and_uploads_are_limited() {
    use certdesk::domain::{apply, captcha as captchas, security_key};
    let app = spawn_app_with(|c| c.trust_forwarded_for = true).await;
    let get_from = |address: &'static str| {
        app.client.get(app.url(&endpoint::NewCaptcha::path(&[]))).header("x-forwarded-for", address).send()
    };
    for i in 0..captchas::PER_ADDRESS_PER_MINUTE {
        assert_eq!(get_from("2001:db8:a:b::1").await.unwrap().status(), StatusCode::OK, "{i}");
    }
    assert_eq!(get_from("2001:db8:a:b::2").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(get_from("2001:db8:a:c::1").await.unwrap().status(), StatusCode::OK, "another /64");

    for path in [endpoint::StartKeySignIn::PATH, endpoint::StartStaffSignIn::PATH] {
        let post_from = |address: &'static str| {
            app.client
                .post(app.url(path))
                .header("x-forwarded-for", address)
                .json(&json!({ "mobile": "13800138000", "username": "someone" }))
                .send()
        };
        for i in 0..security_key::STARTS_PER_ADDRESS_PER_MINUTE {
            assert_eq!(post_from("203.0.113.9").await.unwrap().status(), StatusCode::OK, "{path} {i}");
        }
        assert_eq!(post_from("203.0.113.9").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }

    let (mut b, _) = registered(&app).await;
    for i in 0..apply::DRAFTS_PER_ACCOUNT_PER_DAY {
        let (s, v) = b.send::<endpoint::StartApplication>(&[], &()).await;
        assert_eq!(s, StatusCode::OK, "{i}: {v}");
    }
    let (s, v) = b.send::<endpoint::StartApplication>(&[], &()).await;
    assert_eq!((s, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited));
    let mine = b.ok::<endpoint::ListApplications>(&[], &()).await;
    assert_eq!(mine.len(), apply::DRAFTS_PER_ACCOUNT_PER_DAY as usize, "no draft beyond the limit");

    // Uploads: a complete draft made three already.
    use crate::helpers::issuing::{PNG, complete_draft, upload};
    let (mut admin, _) = staff_browser(&app, certdesk_shared::admin::StaffRole::Administrator).await;
    let (c, id, _) = complete_draft(&app, &mut admin, false).await;
    for i in 3..apply::UPLOADS_PER_ACCOUNT_PER_HOUR {
        let (s, v) = upload(&c, &id, "operator_id", "id.png", PNG).await;
        assert_eq!(s, StatusCode::OK, "{i}: {v}");
    }
    let (s, v) = upload(&c, &id, "operator_id", "id.png", PNG).await;
    assert_eq!((s, code_of(&v)), (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited));
}
