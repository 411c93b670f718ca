//! Group commit for new records. Requests that create records hand their prepared record to
//! one writer task, which writes whatever has queued up meanwhile in one transaction (with one
//! multi-row statement per table) and answers each request only after that transaction has
//! committed. Under load many creates share one commit; alone, a create waits for nobody.
//!
//! If a batch fails as a whole, its records are written again one by one, so that one bad
//! record cannot fail the others.

use crate::error::{StoreError, StoreResult};
use crate::records::{self, NewRecord};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use xiansuo_store::Db;

/// The most records written in one transaction.
const MAX_BATCH: usize = 256;

struct Job {
    record: NewRecord,
    reply: oneshot::Sender<StoreResult<Value>>,
}

/// The handle requests use to create records through the writer task.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on the current tokio runtime. It ends when every handle is gone
    /// and the queue is empty.
    pub fn start(db: Db) -> Writer {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, queue));
        Writer { jobs }
    }

    /// Writes a prepared record and returns it as the API shows it, once committed.
    pub async fn create(&self, record: NewRecord) -> StoreResult<Value> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Internal(anyhow::anyhow!("the writer has stopped"));
        self.jobs
            .send(Job { record, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(db: Db, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        write(&db, std::mem::take(&mut batch)).await;
    }
}

async fn commit(db: &Db, records: &mut [&mut NewRecord]) -> anyhow::Result<Vec<Value>> {
    let mut tx = db.begin().await?;
    let created = records::insert(&mut tx, records).await?;
    tx.commit().await?;
    Ok(created)
}

async fn write(db: &Db, mut jobs: Vec<Job>) {
    let mut records: Vec<&mut NewRecord> = jobs.iter_mut().map(|j| &mut j.record).collect();
    match commit(db, &mut records).await {
        Ok(created) => {
            for (job, value) in jobs.into_iter().zip(created) {
                let _ = job.reply.send(Ok(value));
            }
        }
        Err(batch_error) => {
            if jobs.len() > 1 {
                tracing::warn!(error = ?batch_error, records = jobs.len(), "a batch of creates failed; writing them one by one");
            }
            for mut job in jobs {
                let result = match commit(db, &mut [&mut job.record]).await {
                    Ok(mut created) => created.pop().ok_or_else(|| {
                        StoreError::Internal(anyhow::anyhow!("nothing was inserted"))
                    }),
                    Err(e) => Err(StoreError::Internal(e)),
                };
                let _ = job.reply.send(result);
            }
        }
    }
}
