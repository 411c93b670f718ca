//! The `backups` part of the OpenAPI document: the schedule of automatic backups, the backups
//! in the backup directory, one taken now, and a download (admins only).

use super::{
    boolean, date_time, int64, items, json_body, json_response, operation, prop, request_object,
    response_object, string, Doc, Failure,
};
use utoipa::openapi::path::OperationBuilder;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat};
use utoipa::openapi::{Content, HttpMethod, ResponseBuilder};
use xiansuo_app::data::backup::schedule::{MAX_EVERY_HOURS, MAX_KEEP};

impl Doc {
    pub(super) fn backups(&mut self) {
        let tag = "operations";
        let every = format!("Hours between two scheduled backups, 1 to {MAX_EVERY_HOURS}");
        let keep = format!("How many backups are kept (1 to {MAX_KEEP}); older ones are deleted");
        let schedule = |doc: &str| {
            vec![
                prop("enabled", boolean(doc)),
                prop(
                    "every_hours",
                    int64(false, &every)
                        .minimum(Some(1))
                        .maximum(Some(MAX_EVERY_HOURS)),
                ),
                prop(
                    "keep",
                    int64(false, &keep).minimum(Some(1)).maximum(Some(MAX_KEEP)),
                ),
            ]
        };
        self.schema(
            "BackupSchedule",
            response_object(
                "When backups are taken on their own (off, daily and seven kept until set)",
                schedule("Whether backups are taken on their own"),
            ),
        );
        self.schema(
            "BackupScheduleInput",
            request_object(
                "The schedule of automatic backups",
                schedule("Take backups on their own"),
                &["enabled", "every_hours", "keep"],
            ),
        );
        self.schema(
            "Backup",
            response_object(
                "A backup in the backup directory (DATA_DIR/backups unless configured)",
                vec![
                    prop("id", int64(false, "The id")),
                    prop("file_name", string(false, "The archive's file name")),
                    prop("bytes", int64(false, "The archive's size")),
                    prop(
                        "schema_version",
                        string(false, "The last migration of the database backed up"),
                    ),
                    prop("tables", int64(false, "Tables in the archive")),
                    prop(
                        "rows",
                        int64(false, "Rows in the archive, all tables together"),
                    ),
                    prop(
                        "scheduled",
                        boolean("Taken by the schedule rather than asked for"),
                    ),
                    prop("created_at", date_time(false, "When it was taken")),
                ],
            ),
        );
        self.schema("BackupList", items("The backups, newest first", "Backup"));
        self.schema(
            "BackupQueued",
            response_object(
                "The backup is queued; the job runner takes it within seconds",
                vec![prop("queued", boolean("Always true"))],
            ),
        );
        let admins = |op: OperationBuilder| {
            op.description(Some(
                "Admins only. A backup is one zip archive of every table with a manifest; \
                 `xiansuo restore FILE` loads it into an empty SQLite file or PostgreSQL database.",
            ))
        };
        self.add(
            HttpMethod::Get,
            "/api/v1/backups/schedule",
            admins(operation(
                "getBackupSchedule",
                tag,
                "The schedule of automatic backups",
            ))
            .response("200", json_response("The schedule", "BackupSchedule")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Put,
            "/api/v1/backups/schedule",
            admins(operation(
                "setBackupSchedule",
                tag,
                "Set the schedule of automatic backups",
            ))
            .request_body(Some(json_body("BackupScheduleInput")))
            .response("200", json_response("The schedule", "BackupSchedule")),
            &[Failure::Invalid],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/backups",
            admins(operation(
                "listBackups",
                tag,
                "The backups in the backup directory",
            ))
            .response("200", json_response("The backups", "BackupList")),
            &[Failure::Forbidden],
        );
        self.add(
            HttpMethod::Post,
            "/api/v1/backups",
            admins(operation("takeBackup", tag, "Take a backup now"))
                .response("202", json_response("Queued", "BackupQueued")),
            &[],
        );
        self.add(
            HttpMethod::Get,
            "/api/v1/backups/{id}/download",
            admins(operation(
                "downloadBackup",
                tag,
                "Download a backup's archive",
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The zip archive")
                    .content(
                        "application/zip",
                        Content::new(Some(
                            string(false, "The archive")
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary))),
                        )),
                    ),
            ),
            &[Failure::Forbidden],
        );
    }
}
