-- Secure MSNL (man/msnl.7): this host's X25519 private key (32 octets, or NULL: no key yet), and
-- per route the peer's X25519 public key (NULL: auth none, the historic unauthenticated framing).
-- Routes that existed before this version become auth none, so an upgraded host keeps working;
-- `msnl route add` asks for `key PUBKEY` or `auth none` explicitly from now on.
ALTER TABLE host ADD COLUMN private_key BLOB CHECK (private_key IS NULL OR length(private_key) = 32);
ALTER TABLE routes ADD COLUMN public_key BLOB CHECK (public_key IS NULL OR length(public_key) = 32);
