"""`govhall sfm`: make 苏服码-style test codes (keygen, issue) and check one (verify)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import clock
from . import sfm as codes
from .queue import identity
from .queue.errors import QueueError


@click.group()
def sfm() -> None:
    """苏服码-style test codes."""


@sfm.command()
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="private key file (PEM, 0600); FILE.pub and FILE.seal are written beside it")
@click.option("--trust", "trust_dir", type=click.Path(file_okay=False, path_type=Path),
              help="also make the server whose trusted-key folder this is trust it (e.g. instance/sfm)")
@click.option("--force", is_flag=True, help="replace an existing key file")
def keygen(out: Path, trust_dir: Path | None, force: bool) -> None:
    """A new Ed25519 issuer key pair and its seal key."""
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists; pass --force to replace it")
    files = codes.keygen(out)
    click.echo(f"key id:      {files.key_id}")
    click.echo(f"private key: {files.private}")
    click.echo(f"public key:  {files.public}")
    click.echo(f"seal key:    {files.seal}  (secret: give it only to servers that accept these codes)")
    if trust_dir is not None:
        codes.trust(out, trust_dir)
        click.echo(f"trusted in:  {trust_dir}/{files.key_id}.pub, .seal")


@sfm.command()
@click.option("--key", "key_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="issuer private key file")
@click.option("--id-number", required=True, help="18-character citizen ID number (GB 11643)")
@click.option("--name", required=True, help="the holder's name (only its masked form goes in the code)")
@click.option("--ttl", default=codes.DEFAULT_TTL, show_default=True,
              type=click.IntRange(1, codes.MAX_LIFETIME), help="lifetime in seconds")
def issue(key_file: Path, id_number: str, name: str, ttl: int) -> None:
    """Print a fresh code, and nothing else, on stdout."""
    try:
        issuer = codes.Issuer.load(key_file)
        code = issuer.issue(id_number, name, clock.now(), ttl)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    except QueueError as e:
        raise click.ClickException(f"{e} ({e.code})") from None
    click.echo(code)


@sfm.command()
@click.option("--trust", "trust_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="trusted-key folder")
@click.argument("code")
def verify(trust_dir: Path, code: str) -> None:
    """Check one code against a trusted-key folder; JSON on stdout, non-zero exit when refused."""
    verifier = codes.OfflineVerifier(codes.load_trusted(trust_dir), codes.MemoryReplayCache())
    try:
        v = verifier.verify(code, clock.now())
    except codes.SfmError as e:
        click.echo(json.dumps({"error": {"code": e.code, "message": str(e)}}, ensure_ascii=False))
        raise SystemExit(1) from None
    click.echo(json.dumps({
        "issuer": v.issuer, "masked_name": v.masked_name, "birth_date": v.birth_date.isoformat(),
        "masked_id": identity.mask_id(v.id_number) if v.id_number else None,
        "issued_at": v.issued_at.isoformat(), "expires_at": v.expires_at.isoformat(),
    }, ensure_ascii=False))

