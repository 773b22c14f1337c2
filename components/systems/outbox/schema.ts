/**
 * The three databases of outbox-events.md ("Database Schemas") as init scripts: the tables with
 * exactly the columns the design lists, plus the indexes the services' queries need. The scripts
 * run once, on the first start of an empty data directory (postgres' /docker-entrypoint-initdb.d),
 * in file-name order, against the database named by POSTGRES_DB.
 */

/** The owner of each database: its one client (the design's "each service only to its own database"). */
export const OUTBOX_DATABASES = ["restdb", "grpcdb", "workerdb"] as const;
export type OutboxDatabase = typeof OUTBOX_DATABASES[number];

export interface ColumnDef {
    name: string;
    /** The SQL type and constraints, as the design writes them. */
    definition: string;
}

export interface TableDef {
    name: string;
    columns: ColumnDef[];
    /** CREATE INDEX statements (not in the design's listing; the queries the design describes need them). */
    indexes: string[];
}

const col = (name: string, definition: string): ColumnDef => ({ name, definition });

/** Shared by restdb and grpcdb ("outbox_events table: (same as REST service)"). */
export const OUTBOX_EVENTS_TABLE: TableDef = {
    name: "outbox_events",
    columns: [
        col("id", "VARCHAR(100) PRIMARY KEY"),
        col("aggregate_id", "VARCHAR(100) NOT NULL"),
        col("event_type", "VARCHAR(100) NOT NULL"),
        col("payload", "JSONB NOT NULL"),
        col("created_at", "TIMESTAMP NOT NULL"),
        col("processed_at", "TIMESTAMP NULL"),
    ],
    indexes: [
        // The outbox processor's poll: "SELECT unprocessed events" oldest first. A partial index
        // stays as small as the backlog, however large the table grows.
        "CREATE INDEX IF NOT EXISTS idx_outbox_events_unprocessed ON outbox_events (created_at) WHERE processed_at IS NULL",
        "CREATE INDEX IF NOT EXISTS idx_outbox_events_aggregate_id ON outbox_events (aggregate_id)",
    ],
};

export const TABLES: Record<OutboxDatabase, TableDef[]> = {
    restdb: [
        {
            name: "resources",
            columns: [
                col("id", "VARCHAR(100) PRIMARY KEY"),
                col("name", "VARCHAR(255) NOT NULL"),
                col("description", "TEXT"),
                col("status", "VARCHAR(50) NOT NULL"),
                col("created_at", "TIMESTAMP NOT NULL"),
                col("updated_at", "TIMESTAMP NOT NULL"),
            ],
            indexes: [
                "CREATE INDEX IF NOT EXISTS idx_resources_status ON resources (status)",
                "CREATE INDEX IF NOT EXISTS idx_resources_created_at ON resources (created_at)",
            ],
        },
        OUTBOX_EVENTS_TABLE,
    ],
    grpcdb: [
        {
            name: "tasks",
            columns: [
                col("id", "VARCHAR(100) PRIMARY KEY"),
                col("resource_id", "VARCHAR(100) NOT NULL"),
                col("action", "VARCHAR(100) NOT NULL"),
                col("status", "VARCHAR(50) NOT NULL"),
                col("result", "TEXT"),
                col("created_at", "TIMESTAMP NOT NULL"),
                col("updated_at", "TIMESTAMP NOT NULL"),
            ],
            indexes: [
                "CREATE INDEX IF NOT EXISTS idx_tasks_resource_id ON tasks (resource_id)",
                "CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks (status)",
                "CREATE INDEX IF NOT EXISTS idx_tasks_created_at ON tasks (created_at)",
            ],
        },
        OUTBOX_EVENTS_TABLE,
    ],
    workerdb: [
        {
            name: "processed_events",
            columns: [
                col("id", "UUID PRIMARY KEY"),
                col("event_type", "VARCHAR(100) NOT NULL"),
                col("resource_id", "VARCHAR(100)"),
                col("task_id", "VARCHAR(100)"),
                col("action", "VARCHAR(50)"),
                col("payload", "JSONB NOT NULL"),
                col("processed_at", "TIMESTAMP NOT NULL"),
            ],
            indexes: [
                "CREATE INDEX IF NOT EXISTS idx_processed_events_event_type ON processed_events (event_type)",
                "CREATE INDEX IF NOT EXISTS idx_processed_events_resource_id ON processed_events (resource_id)",
                "CREATE INDEX IF NOT EXISTS idx_processed_events_task_id ON processed_events (task_id)",
            ],
        },
    ],
};

export function createTableSql(t: TableDef): string {
    const width = Math.max(...t.columns.map(c => c.name.length));
    const cols = t.columns.map(c => `    ${c.name.padEnd(width)} ${c.definition}`).join(",\n");
    return `CREATE TABLE IF NOT EXISTS ${t.name} (\n${cols}\n);\n${t.indexes.map(i => `${i};\n`).join("")}`;
}

/** The schema file of one database. */
export function schemaSql(db: OutboxDatabase): string {
    return `-- ${db}: schema of outbox-events.md ("Database Schemas")\n\n${TABLES[db].map(createTableSql).join("\n")}`;
}

/** File names in /docker-entrypoint-initdb.d (run in name order, after the Database's own 00-*). */
export const SCHEMA_FILE = "10-schema.sql";

/**
 * max_connections for a database whose one client runs up to `maxPods` pods with `poolMax`
 * connections each, plus `reserve` for replication, backups and an operator's psql. It is passed
 * on the server's command line, so a new pool size applies at the next rollout.
 */
export function maxConnections(maxPods: number, poolMax: number, reserve = 10): number {
    return Math.max(100, maxPods * poolMax + reserve);
}

/** The init scripts of one database: its schema. */
export function initScripts(db: OutboxDatabase): Record<string, string> {
    return { [SCHEMA_FILE]: schemaSql(db) };
}
