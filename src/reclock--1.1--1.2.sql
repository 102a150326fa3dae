/* src/reclock--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION reclock UPDATE TO '1.2'" to load this file. \quit

-- 1.2: every live lock and its tokens stay as they are.
