//! The staff's sign-in bundle (/admin/sign-in, /admin/enrol): security-key sign-in and
//! enrolment, the only staff pages that need WebAuthn.

fn main() {
    certdesk_frontend::mount_admin_sign_in();
}
