//! The token pages that need no sign-in (/remote-download, /unlock, /verify, /agent): 远程下载,
//! 证书解锁, 证书校验 and 证书助手, each through the local agent.

fn main() {
    certdesk_frontend::mount_token();
}
