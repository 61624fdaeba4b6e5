-- Stored SBOMs and their findings, re-matched when the advisory database changes.

CREATE TABLE images (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    reference TEXT NOT NULL,
    sbom_kind TEXT NOT NULL,
    distro TEXT NOT NULL,
    sbom TEXT NOT NULL,
    package_count BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    evaluated_ms BIGINT NOT NULL,
    UNIQUE (org_id, digest)
);

-- One row per (package, lookup key): a re-evaluation reads only the packages an advisory names.
CREATE TABLE image_packages (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    package_ref TEXT NOT NULL,
    package TEXT NOT NULL
);
CREATE INDEX image_packages_by_key ON image_packages (ecosystem, name);
CREATE INDEX image_packages_by_image ON image_packages (image_id);

CREATE TABLE image_findings (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    advisory_id TEXT NOT NULL,
    package_ref TEXT NOT NULL,
    severity TEXT NOT NULL,
    finding TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    PRIMARY KEY (image_id, advisory_id, package_ref)
);
