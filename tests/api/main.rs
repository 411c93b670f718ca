//! The contract suite: every scenario runs against the real application, served over HTTP on
//! a free port, once on a fresh SQLite file and once on a fresh PostgreSQL database (created on
//! 127.0.0.1:5432 and dropped afterwards). Without PostgreSQL the PostgreSQL half is skipped,
//! except in CI (`CI=true`), where that is a failure.

mod support;

mod architecture;
mod assignment;
mod audit;
mod auth;
mod backup;
mod choices;
mod cli;
mod crash;
mod dedup;
mod errors;
mod export;
mod followups;
mod forms;
mod import;
mod import_api;
mod import_objects;
mod import_objects_api;
mod import_world;
mod jobs;
mod lead_marks;
mod limits;
mod mail;
mod merge;
mod openapi;
mod permissions;
mod pipeline;
mod pool;
mod prediction;
mod privacy;
mod records;
mod report_summaries;
mod reports;
mod robots;
mod scope;
mod scoring;
mod ui;
mod ui_audit;
mod ui_list;
mod ui_messages;
mod ui_reports;
mod ui_robots;
mod ui_sales;
mod ui_settings;
mod ui_settings_ops;
mod ui_settings_tour;
mod webhooks;

/// Declares each scenario once per database: `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::TestApp::start($crate::support::Backend::Sqlite).await.expect("a SQLite test app")).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::support::TestApp::start($crate::support::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
