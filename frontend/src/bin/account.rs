//! The account bundle (/register, /sign-in, /forgot-password, /account): every way to sign
//! in, registration, the password reset and 我的账户.

fn main() {
    certdesk_frontend::mount_account();
}
