//! Password and client-secret hashing with argon2id (m = 19456 KiB, t = 2, p = 1: OWASP's
//! minimum), on a bounded pool of its own.
//!
//! Every argon2 computation runs on one of a fixed number of dedicated threads
//! (`DUBAN_PASSWORD_THREADS`), each owning one working-memory buffer of 19 MiB that it reuses
//! for every job: the memory is allocated once per thread, never per verification, so sign-ins
//! at full rate neither grow the process nor take more CPU than those threads. A bounded queue
//! ([`QUEUE_LEN`] jobs) stands in front; an async caller that finds it full is refused at once
//! with [`Busy`] (answered 503 with `Retry-After`) instead of piling up work. Start-up and the
//! command line use the blocking entry points ([`hash_blocking`]), which wait for room.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`); a stored hash is
//! verified with its own algorithm, version and parameters and compared in constant time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

/// How many jobs may wait for a hashing thread before callers are refused.
pub const QUEUE_LEN: usize = 64;

/// What a caller refused for a full queue is told to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

/// The parameters of new hashes.
fn params() -> Params {
    Params::new(19_456, 2, 1, None).expect("valid argon2 parameters")
}

/// The hashing queue is full (or the pool has stopped): try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl From<Busy> for crate::error::ApiError {
    fn from(_: Busy) -> Self {
        crate::error::ApiError::Overloaded {
            retry_after_secs: RETRY_AFTER_SECS,
            detail: "too many sign-ins are waiting for a password check".into(),
        }
    }
}

/// The working memory of one hashing thread, kept from job to job.
pub struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    /// Memory for the parameters of new hashes.
    pub fn new() -> Self {
        Memory {
            blocks: vec![Block::new(); params().block_count()],
        }
    }

    /// Runs argon2 with this memory. A stored hash with a larger memory cost than ours (none
    /// are written by duban) gets a buffer for that job alone, so the kept one never grows.
    fn compute(&mut self, ctx: &Argon2<'_>, pwd: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
        let need = ctx.params().block_count();
        let result = if need <= self.blocks.len() {
            ctx.hash_password_into_with_memory(pwd, salt, out, &mut self.blocks[..need])
        } else {
            ctx.hash_password_into_with_memory(pwd, salt, out, vec![Block::new(); need])
        };
        result.is_ok()
    }

    /// Hashes a password into a PHC string with a fresh salt and the parameters of new hashes.
    pub fn hash(&mut self, password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        let params = params();
        let ctx = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut salt_bytes = [0u8; 64];
        let salt_raw = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .expect("a generated salt decodes");
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        assert!(
            self.compute(&ctx, password.as_bytes(), salt_raw, &mut out),
            "argon2 hashing with valid parameters cannot fail"
        );
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).expect("parameters print"),
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).expect("a 32-byte output")),
        }
        .to_string()
    }

    /// Checks a password against a PHC string, with the hash's own algorithm, version and
    /// parameters and a constant-time comparison. A malformed hash never matches.
    pub fn matches(&mut self, stored: &str, password: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(v)) => v,
            Some(Err(_)) => return false,
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let ctx = Argon2::new(algorithm, version, params);
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = &mut out[..expected.len()];
        if !self.compute(&ctx, password.as_bytes(), salt_raw, out) {
            return false;
        }
        // `Output`'s equality is constant-time.
        Output::new(out).is_ok_and(|computed| &computed == expected)
    }

    /// Checks a password against a stored hash, or against the dummy hash when `stored` is
    /// `None` (then the answer is always false), so that an unknown account costs the same.
    pub fn verify(&mut self, stored: Option<&str>, password: &str) -> bool {
        match stored {
            Some(h) => self.matches(h, password),
            None => {
                let dummy = dummy_hash(self);
                let _ = self.matches(dummy, password);
                false
            }
        }
    }
}

impl Default for Memory {
    fn default() -> Self {
        Self::new()
    }
}

/// A hash of a random password, verified against when the account does not exist so that an
/// unknown user costs the same time as a wrong password.
fn dummy_hash(memory: &mut Memory) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| memory.hash(&crate::auth::token::random_token()))
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// A fixed set of hashing threads behind a bounded queue.
pub struct Pool {
    queue: SyncSender<Job>,
    threads: usize,
}

impl Pool {
    /// Starts `threads` hashing threads (at least one) behind a queue of `queue_len` jobs.
    pub fn new(threads: usize, queue_len: usize) -> Self {
        let threads = threads.max(1);
        let (queue, jobs) = sync_channel::<Job>(queue_len);
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..threads {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("duban-argon2-{i}"))
                .spawn(move || work(&jobs))
                .expect("a hashing thread starts");
        }
        Pool { queue, threads }
    }

    /// How many hashing threads run.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on a hashing thread and awaits its answer; refused at once when the queue is
    /// full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Busy>
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |m| {
            let _ = tx.send(f(m));
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Err(Busy),
        }
        rx.await.map_err(|_| Busy)
    }

    /// Runs `f` on a hashing thread and blocks the calling thread until it is done, waiting
    /// for room in the queue (start-up and the command line, never a request).
    pub fn run_blocking<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = sync_channel(1);
        let job: Job = Box::new(move |m| {
            let _ = tx.send(f(m));
        });
        self.queue
            .send(job)
            .expect("the hashing threads outlive their pool");
        rx.recv().expect("a hashing job answers")
    }
}

/// One hashing thread: takes jobs one at a time and runs them with its own memory.
fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::new();
    loop {
        // The lock is held only while waiting for the next job, not while running it.
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        // A job that panics drops its answer (the caller sees an error); the thread goes on.
        if catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
            tracing::error!("a password hashing job panicked");
        }
    }
}

/// The default number of hashing threads: one on machines with up to two cores, else half
/// the cores.
pub fn default_threads() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if cores <= 2 {
        1
    } else {
        cores / 2
    }
}

static POOL: OnceLock<Pool> = OnceLock::new();

/// Starts the process's hashing pool with `threads` threads; later calls keep the first pool.
/// Entry points used before it is started start it with [`default_threads`].
pub fn start(threads: usize) -> &'static Pool {
    POOL.get_or_init(|| Pool::new(threads, QUEUE_LEN))
}

fn pool() -> &'static Pool {
    start(default_threads())
}

/// Hashes a password into a PHC string on the hashing pool.
pub async fn hash(password: String) -> Result<String, Busy> {
    pool().run(move |m| m.hash(&password)).await
}

/// Checks a password against a stored hash (or the dummy hash for `None`, always false) on the
/// hashing pool.
pub async fn verify(stored: Option<String>, password: String) -> Result<bool, Busy> {
    pool()
        .run(move |m| m.verify(stored.as_deref(), &password))
        .await
}

/// [`hash`] for start-up and the command line: blocks until done.
pub fn hash_blocking(password: &str) -> String {
    let password = password.to_owned();
    pool().run_blocking(move |m| m.hash(&password))
}

/// Computes the dummy hash (and touches every thread's memory once it is used), so the first
/// unknown-user sign-in is not slower than the rest.
pub fn warm_up() {
    pool().run_blocking(|m| {
        let _ = dummy_hash(m);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn a_hash_verifies_its_password_only() {
        let mut m = Memory::new();
        let h = m.hash("correct horse battery");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(m.verify(Some(&h), "correct horse battery"));
        assert!(!m.verify(Some(&h), "correct horse battery!"));
    }

    #[test]
    fn unknown_accounts_and_broken_hashes_never_match() {
        let mut m = Memory::new();
        assert!(!m.verify(None, "anything at all"));
        assert!(!m.verify(Some("not a hash"), "anything at all"));
        assert!(!m.verify(Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA"), "x"));
    }

    #[test]
    fn hashes_written_by_the_argon2_crate_itself_still_verify() {
        // What duban stored before the pool: the crate's own PHC output.
        let ctx = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let salt = SaltString::generate(&mut OsRng);
        let old = ctx
            .hash_password(b"an existing passphrase", &salt)
            .unwrap()
            .to_string();
        let mut m = Memory::new();
        assert!(m.verify(Some(&old), "an existing passphrase"));
        assert!(!m.verify(Some(&old), "another passphrase"));
        // And the crate accepts what the pool writes.
        let new = m.hash("a new passphrase");
        let parsed = PasswordHash::new(&new).unwrap();
        assert!(ctx.verify_password(b"a new passphrase", &parsed).is_ok());
    }

    #[test]
    fn a_hash_stored_before_the_pool_still_verifies() {
        // Written by `duban user add` before hashing moved to the pool.
        let stored = "$argon2id$v=19$m=19456,t=2,p=1$9STp/m2D+fLNzq4X+BQX8g$\
                      iZpFKlDJQe9W48Y/uPjKxTCcASQyXnJ+yvOvdVQonF0";
        let mut m = Memory::new();
        assert!(m.verify(Some(stored), "an existing passphrase 2024"));
        assert!(!m.verify(Some(stored), "an existing passphrase 2025"));
    }

    #[test]
    fn other_parameters_verify_with_their_own_memory() {
        // A hash with other parameters (argon2i, 8 MiB, t = 3) checks with those, and the kept
        // buffer does not change size.
        let p = Params::new(8_192, 3, 1, None).unwrap();
        let ctx = Argon2::new(Algorithm::Argon2i, Version::V0x13, p);
        let salt = SaltString::generate(&mut OsRng);
        let h = ctx.hash_password(b"older", &salt).unwrap().to_string();
        let big = Params::new(24_576, 1, 1, None).unwrap();
        let ctx_big = Argon2::new(Algorithm::Argon2id, Version::V0x13, big);
        let h_big = ctx_big.hash_password(b"bigger", &salt).unwrap().to_string();
        let mut m = Memory::new();
        assert!(m.verify(Some(&h), "older"));
        assert!(!m.verify(Some(&h), "newer"));
        assert!(m.verify(Some(&h_big), "bigger"));
        assert_eq!(m.blocks.len(), params().block_count());
    }

    #[test]
    fn the_pool_answers_async_and_blocking_callers() {
        let pool = Pool::new(1, 4);
        let h = pool.run_blocking(|m| m.hash("through the pool"));
        let ok = futures_block_on(pool.run(move |m| m.verify(Some(&h), "through the pool")));
        assert_eq!(ok, Ok(true));
    }

    #[test]
    fn a_full_queue_refuses_at_once() {
        let pool = Pool::new(1, 1);
        let (hold, release) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        // Occupy the one thread, then fill the one queue slot.
        let first = std::thread::spawn({
            let queue = pool.queue.clone();
            move || {
                let job: Job = Box::new(move |_| {
                    started_tx.send(()).unwrap();
                    release.recv().unwrap();
                });
                queue.send(job).unwrap();
            }
        });
        started.recv().unwrap();
        first.join().unwrap();
        pool.queue.try_send(Box::new(|_| {})).ok().unwrap();
        assert_eq!(futures_block_on(pool.run(|_| ())), Err(Busy));
        hold.send(()).unwrap();
    }

    #[test]
    fn a_refusal_is_a_503_problem_with_retry_after() {
        use actix_web::ResponseError;
        let e = crate::error::ApiError::from(Busy);
        let res = e.error_response();
        assert_eq!(res.status().as_u16(), 503);
        assert_eq!(res.headers().get("retry-after").unwrap(), "1");
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
        assert_eq!(e.problem().problem_type, "/problems/overloaded");
    }

    /// Drives a future on this thread (the pool's answer arrives from another thread).
    fn futures_block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Wake, Waker};
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            match f.as_mut().poll(&mut cx) {
                Poll::Ready(v) => return v,
                Poll::Pending => std::thread::park(),
            }
        }
    }
}
