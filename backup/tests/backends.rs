//! The one test suite every storage backend passes (restic's `internal/backend/test`):
//! the local directory, and S3 against a real S3 server (s3s-fs).

use std::sync::Arc;

use backup::backend::local::LocalBackend;
use backup::backend::s3::{S3Backend, S3Options};
use backup::backend::{get_bytes, put_bytes, Backend, Chunk, PutOptions};
use backup::policy::Policy;
use backup::prune::{execute, plan_prune};
use backup::repo::Repository;
use backup::Error;
use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// Deterministic, incompressible bytes.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Puts `data` in chunks of `chunk` bytes, ending the body with `last`.
async fn put_chunks(
    b: &dyn Backend,
    name: &str,
    data: &[u8],
    chunk: usize,
    last: Option<Chunk>,
) -> backup::Result<u64> {
    let (tx, rx) = mpsc::channel(4);
    let body: Vec<Bytes> = data.chunks(chunk).map(Bytes::copy_from_slice).collect();
    let sender = tokio::spawn(async move {
        for c in body {
            if tx.send(Chunk::Data(c)).await.is_err() {
                return;
            }
        }
        if let Some(last) = last {
            let _ = tx.send(last).await;
        }
    });
    let stored = b.put(name, rx, PutOptions { size_hint: Some(data.len() as u64) }).await;
    let _ = sender.await;
    stored
}

async fn suite(b: &dyn Backend) -> anyhow::Result<()> {
    assert!(b.list("").await?.is_empty(), "{}: a new repository is empty", b.location());

    // Small objects: put, stat, get, ranges, overwrite.
    assert_eq!(put_bytes(b, "snapshots/a.json", b"hello world".to_vec()).await?, 11);
    let stat = b.stat("snapshots/a.json").await?.expect("stat finds the object");
    assert_eq!((stat.name.as_str(), stat.size), ("snapshots/a.json", 11));
    assert_eq!(get_bytes(b, "snapshots/a.json").await?, b"hello world");
    let mut part = Vec::new();
    b.get("snapshots/a.json", Some(6..11)).await?.read_to_end(&mut part).await?;
    assert_eq!(part, b"world");
    put_bytes(b, "snapshots/a.json", b"replaced".to_vec()).await?;
    assert_eq!(get_bytes(b, "snapshots/a.json").await?, b"replaced");
    put_bytes(b, "snapshots/b.json", Vec::new()).await?;
    assert_eq!(b.stat("snapshots/b.json").await?.map(|s| s.size), Some(0));

    // A large object in many chunks (several S3 parts), read back whole and in part.
    let big = noise(40 << 20, 3);
    assert_eq!(put_chunks(b, "data/x/big.bin", &big, 1 << 20, Some(Chunk::End)).await?, big.len() as u64);
    assert_eq!(b.stat("data/x/big.bin").await?.map(|s| s.size), Some(big.len() as u64));
    assert!(get_bytes(b, "data/x/big.bin").await? == big, "the large object reads back the same");
    let mut middle = Vec::new();
    b.get("data/x/big.bin", Some((17 << 20) + 5..(33 << 20))).await?.read_to_end(&mut middle).await?;
    assert!(middle[..] == big[(17 << 20) + 5..33 << 20]);

    // Listing: by prefix, sorted, names relative to the repository.
    let names: Vec<String> = b.list("snapshots/").await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["snapshots/a.json", "snapshots/b.json"]);
    let names: Vec<String> = b.list("").await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["data/x/big.bin", "snapshots/a.json", "snapshots/b.json"]);
    assert!(b.list("snap").await?.len() == 2 && b.list("nothing/").await?.is_empty());

    // An aborted put, or a body that stops without its end, leaves nothing.
    for (name, abort) in [("data/y/aborted", true), ("data/y/cut", false)] {
        for size in [1000, 20 << 20] {
            let last = abort.then(|| Chunk::Abort("test".into()));
            let err = put_chunks(b, name, &noise(size, 5), 1 << 20, last).await.expect_err("an unfinished put fails");
            assert!(matches!(err, Error::Storage { .. }), "{err}");
            assert_eq!(b.stat(name).await?, None, "{name} ({size} bytes) must not exist");
        }
    }

    // Missing objects and bad names.
    assert!(matches!(b.get("snapshots/none.json", None).await, Err(Error::Missing { .. })));
    assert_eq!(b.stat("snapshots/none.json").await?, None);
    b.delete("snapshots/none.json").await?;
    for bad in ["/abs", "a/../b", ""] {
        assert!(b.stat(bad).await.is_err(), "{bad:?}");
    }

    // Delete.
    for name in ["snapshots/a.json", "snapshots/b.json", "data/x/big.bin"] {
        b.delete(name).await?;
        assert_eq!(b.stat(name).await?, None);
    }
    let left: Vec<String> = b.list("").await?.into_iter().map(|o| o.name).filter(|n| !n.starts_with("tmp/")).collect();
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

#[tokio::test]
async fn the_local_backend_passes_the_suite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let b = LocalBackend::new(dir.path().join("repo"));
    suite(&b).await?;
    assert!(!dir.path().join("repo/data/x").exists(), "empty directories are removed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_backend_passes_the_suite_against_a_real_s3_server() -> anyhow::Result<()> {
    let Some(binary) = testkit::require_s3s_fs()? else { return Ok(()) };
    let server = testkit::S3Server::start(&binary)?;
    server.create_bucket("rdbkit")?;
    let options = |prefix: &str| S3Options {
        bucket: "rdbkit".into(),
        prefix: prefix.into(),
        endpoint: Some(server.endpoint()),
        path_style: true,
        region: Some("us-east-1".into()),
        credentials: Some((testkit::S3Server::ACCESS_KEY.into(), testkit::S3Server::SECRET_KEY.into())),
        sse: None,
    };
    let b: Arc<dyn Backend> = Arc::new(S3Backend::connect(options("nightly/cache")).await?);
    suite(b.as_ref()).await?;
    // The prefix keeps repositories apart; the wrong secret is refused.
    put_bytes(b.as_ref(), "locks/x.json", b"{}".to_vec()).await?;
    let other = S3Backend::connect(options("other")).await?;
    assert!(other.list("").await?.is_empty());
    let wrong =
        S3Backend::connect(S3Options { credentials: Some(("rdbkit-test".into(), "wrong".into())), ..options("") })
            .await?;
    let err = wrong.list("").await.expect_err("a bad signature is refused");
    assert!(matches!(err, Error::Storage { .. }), "{err}");
    unfinished_uploads_are_found_and_pruned(b).await
}

/// A put killed in the middle of a multipart upload (as by `kill -9`) leaves an upload
/// S3 keeps and bills; prune finds it and aborts it (once it is old enough).
async fn unfinished_uploads_are_found_and_pruned(b: Arc<dyn Backend>) -> anyhow::Result<()> {
    assert!(b.unfinished().await?.is_empty());
    let (tx, rx) = mpsc::channel(4);
    let writer = b.clone();
    let put = tokio::spawn(async move {
        writer.put("data/killed/part-0.zst", rx, PutOptions { size_hint: Some(64 << 20) }).await
    });
    tx.send(Chunk::Data(Bytes::from(noise(20 << 20, 3)))).await?;
    let mut found = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        found = b.unfinished().await?;
        if !found.is_empty() {
            break;
        }
    }
    put.abort();
    drop(tx);
    assert_eq!(found.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["data/killed/part-0.zst"]);
    let repo = Repository::new(b.clone());
    let policy = Policy { last: 1, ..Policy::default() };
    let soon = plan_prune(&repo, &policy, chrono::Utc::now()).await?;
    assert!(soon.unfinished.is_empty(), "a fresh upload may belong to a running backup");
    let later = plan_prune(&repo, &policy, chrono::Utc::now() + chrono::TimeDelta::hours(2)).await?;
    assert_eq!(later.unfinished, found);
    execute(&repo, &later).await?;
    assert!(b.unfinished().await?.is_empty(), "prune aborted the upload");
    Ok(())
}
