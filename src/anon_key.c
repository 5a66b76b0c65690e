/* The anonymizer's key file: 32 bytes from getrandom(), mode 0600, never overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "anon_key.h"

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
random_key(uint8_t key[ANON_KEY_LEN])
{
	size_t got = 0;

	while (got < ANON_KEY_LEN) {
		ssize_t n = getrandom(key + got, ANON_KEY_LEN - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
anon_key_create(const char *path, char *err, size_t errlen)
{
	uint8_t key[ANON_KEY_LEN];
	int fd, rc = -1;

	if (random_key(key) == -1) {
		snprintf(err, errlen, "%s: no random bytes for a key: %s", path,
		    strerror(errno));
		return -1;
	}
	/* O_EXCL: an existing key may be the only way back to a capture's addresses. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s: exists; a key file is never "
			    "overwritten (its pseudonyms could not be reversed "
			    "any more): remove it yourself or choose another "
			    "name", path);
		else
			snprintf(err, errlen, "%s: cannot create: %s", path,
			    strerror(errno));
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	if (write_all(fd, key, sizeof(key)) == -1 || fsync(fd) == -1)
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno ? errno : EIO));
	else
		rc = 0;
	OPENSSL_cleanse(key, sizeof(key));
	if (close(fd) == -1 && rc == 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		unlink(path);	/* a short key file must not pass for a key */
	return rc;
}

int
anon_key_load(const char *path, uint8_t key[ANON_KEY_LEN], char *err,
    size_t errlen)
{
	uint8_t buf[ANON_KEY_LEN + 1];
	size_t got = 0;
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: cannot open the key file: %s%s", path,
		    strerror(errno), errno == ENOENT ?
		    " (make one with: traffic-reproducer anonymize --new-key FILE)" :
		    "");
		return -1;
	}
	/* One byte more than a key tells a longer file from a key. */
	while (got < sizeof(buf) &&
	    ((n = read(fd, buf + got, sizeof(buf) - got)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	if (got < sizeof(buf) && n == -1) {
		snprintf(err, errlen, "%s: cannot read the key file: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (got != ANON_KEY_LEN) {
		snprintf(err, errlen, "%s: not a key: a key file holds exactly "
		    "%d bytes, this one %s%zu", path, ANON_KEY_LEN,
		    got > ANON_KEY_LEN ? "more than " : "", got > ANON_KEY_LEN ?
		    (size_t)ANON_KEY_LEN : got);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	memcpy(key, buf, ANON_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}
