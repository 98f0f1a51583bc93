-- The cloud's PostgreSQL role and database (PostgreSQL 13 or later).
-- Run once as a superuser:  psql -U postgres -f deploy/postgres/bootstrap.sql
-- then set database_url = "postgresql://branchline@127.0.0.1/branchline" in
-- /etc/branchline/cloud.toml (a password, if the role has one, in the URL or in
-- ~branchline/.pgpass). The cloud creates and migrates its tables itself at start.
--
-- Text sorts by code point (LC_COLLATE 'C'), as SQLite sorts it at the edges, so a
-- list reads the same from the cloud and from a branch.
CREATE ROLE branchline LOGIN;
CREATE DATABASE branchline OWNER branchline TEMPLATE template0 ENCODING 'UTF8'
    LC_COLLATE 'C' LC_CTYPE 'C';
