// Package policy holds the account service's rules as plain functions: the
// password policy and argon2id hashing, parsing and masking of identifiers
// (email, phone, Mi ID), random codes and session tokens, and sanitizing of
// text before it is stored or drawn. It does no HTTP and no storage, so the
// server, its tests and fuzz targets can use it directly.
package policy
