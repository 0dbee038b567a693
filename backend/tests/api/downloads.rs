//! 下载中心: the agent's files the release build left in the static directory, listed with
//! their size and SHA-256 (which match the bytes served), other files ignored.

use certdesk_shared::downloads::{Download, Platform};
use certdesk_shared::endpoint::{self, Endpoint};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn the_download_centre_lists_each_agent_with_a_digest_that_matches_what_it_serves() {
    let mut written = Vec::new();
    let app = spawn_app_with(|c| {
        let dir = c.static_dir.join("downloads");
        std::fs::create_dir_all(&dir).unwrap();
        for (platform, bytes) in
            [(Platform::Linux, &b"\x1f\x8b linux build"[..]), (Platform::Windows, b"MZ windows build")]
        {
            let file = Download::agent_file("0.1.0", platform);
            std::fs::write(dir.join(&file), bytes).unwrap();
            written.push((file, bytes.to_vec()));
        }
        // Not a download: a half-written copy and anything else.
        std::fs::write(dir.join("certdesk-agent-0.1.0-windows-x86_64.exe.part"), b"MZ").unwrap();
        std::fs::write(dir.join("notes.txt"), b"n").unwrap();
    })
    .await;
    let res = app.get(&endpoint::ListDownloads::path(&[])).await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Vec<Download> = res.json().await.unwrap();
    assert_eq!(list.iter().map(|d| d.platform).collect::<Vec<_>>(), [Platform::Windows, Platform::Linux]);
    for d in &list {
        let (_, bytes) = written.iter().find(|(f, _)| *f == d.file).unwrap();
        assert_eq!((d.size, d.version.as_str()), (bytes.len() as u64, "0.1.0"));
        let served = app.get(&d.url()).await;
        assert_eq!(served.status(), StatusCode::OK, "{}", d.url());
        let served = served.bytes().await.unwrap();
        assert_eq!(hex::encode(Sha256::digest(&served)), d.sha256, "{}", d.file);
        assert_eq!(&served[..], &bytes[..]);
    }
}

#[tokio::test]
async fn without_a_release_build_the_download_centre_is_empty() {
    let app = spawn_app().await;
    let list: Vec<Download> = app.get(&endpoint::ListDownloads::path(&[])).await.json().await.unwrap();
    assert!(list.is_empty());
    assert_eq!(app.get("/downloads/certdesk-agent-0.1.0-windows-x86_64.exe").await.status(), StatusCode::NOT_FOUND);
}
