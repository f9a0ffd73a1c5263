-- A plain SQL migration: the statements after each marker run in order.
-- migrate:up
CREATE TABLE categories (
    id integer PRIMARY KEY,
    name varchar(100) NOT NULL DEFAULT 'general; not a statement break'
);
INSERT INTO categories (id, name) VALUES (1, 'it''s the default category');

-- migrate:down
DROP TABLE categories;
