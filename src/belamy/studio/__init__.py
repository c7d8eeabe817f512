"""The studio: a local web app to sift folders of renders, rate them with the keyboard and pick the few.

It is a front end over the library, like the CLI: the layer between `belamy.cli` and
`belamy.api` (docs/decisions/0048-studio.md). Its parts each do one job:

- `records`: a render's record (beside it or inside the PNG), read without failing;
- `library`: the renders of the served folders, scanned into an index of tiles;
- `paths`: which files may be read at all (the served folders and the state folder);
- `migrations`, `state`: the SQLite state (ratings, picks, rejects, tags, notes), versioned;
- `identity`: a file's sha256, cached by (size, mtime_ns, inode);
- `thumbs`: thumbnails made in a background pool, cached by sha256;
- `query`: sort and filter the tiles;
- `security`: Host, token and CSRF checks on every request;
- `app`, `server`: the Starlette app and its uvicorn server;
- `export`: the picks copied out with their records, and ratings.csv.

Starlette and uvicorn are the optional `studio` extra; importing this package needs neither.
"""
