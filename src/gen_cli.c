/* `traffic-reproducer generate -t SPEC -o OUT.pcap [--expect]`: the files written under temporary names and renamed into place together. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <libgen.h>
#include <limits.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "gen_cli.h"
#include "gen_run.h"
#include "gen_spec.h"
#include "monotime.h"
#include "pcapw.h"

#define EXIT_FAIL	1
#define EXIT_USAGE	2

static const char usage_text[] =
"usage: traffic-reproducer generate -t SPEC.yml -o OUT.pcap [--expect]\n"
"       traffic-reproducer generate -t SPEC.yml --expect\n"
"\n"
"Writes the traffic a spec describes (IPFIX, NetFlow v9/v5, BMP, BGP from\n"
"many exporters) as a capture, OUT.pcap, and OUT.yml, a replay config for it\n"
"(traffic-reproducer -t OUT.yml sends it to the spec's collector).  The same\n"
"spec and seed give the same bytes.\n"
"\n"
"options:\n"
"  -t, --spec FILE   the spec (README, \"Generate\")\n"
"  -o, --out FILE    the capture; the config goes next to it, .pcap -> .yml\n"
"  --expect          print the oracle: what the spec asks for (flows,\n"
"                    messages, templates; BMP peers and route monitoring\n"
"                    messages; BGP sessions, UPDATEs and Adj-RIB-In;\n"
"                    prefixes; per section and exporter), JSON\n"
"  -h, --help\n";

/* OUT.pcap -> OUT.yml; another name gets .yml added. */
static int
config_path(const char *pcap, char *out, size_t len)
{
	size_t n = strlen(pcap);

	if (n > 5 && strcmp(pcap + n - 5, ".pcap") == 0)
		n -= 5;
	if ((size_t)snprintf(out, len, "%.*s.yml", (int)n, pcap) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A temporary name in the folder of path: the rename into place stays on one file system. */
static int
temp_beside(const char *path, char *out, size_t len)
{
	char copy[PATH_MAX], base[PATH_MAX];
	int fd;

	if (strlen(path) >= sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(copy, path);
	strcpy(base, path);
	if ((size_t)snprintf(out, len, "%s/.%s.XXXXXX", dirname(copy),
	    basename(base)) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(out)) == -1)
		return -1;
	/* mkstemp's 0600 would outlive the rename: the outputs get the umask's mode as any new file. */
	mode_t um = umask(0);

	umask(um);
	fchmod(fd, 0666 & ~um);
	close(fd);
	return 0;
}

/* Whether a and b are one file (by device and inode); false when b does not exist. */
static bool
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int
generate(const struct gen_spec *spec, const char *spec_path,
    const char *out, volatile sig_atomic_t *stop)
{
	char yml[PATH_MAX], tmp_pcap[PATH_MAX], tmp_yml[PATH_MAX];
	char abs_dir[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], abs_pcap[PATH_MAX * 2];
	char err[1024];
	struct gen_totals t;
	struct pcapw *pw;
	FILE *f = NULL;
	tr_ns t0;
	double secs;
	int rc = EXIT_FAIL;

	tmp_pcap[0] = tmp_yml[0] = '\0';
	snprintf(dir, sizeof(dir), "%s", out);
	snprintf(base, sizeof(base), "%s", out);
	if (config_path(out, yml, sizeof(yml)) == -1 ||
	    realpath(dirname(dir), abs_dir) == NULL) {
		fprintf(stderr, "generate: %s: %s\n", out, strerror(errno));
		return EXIT_USAGE;
	}
	snprintf(abs_pcap, sizeof(abs_pcap), "%s/%s", abs_dir, basename(base));
	if (same_file(spec_path, yml) || same_file(spec_path, out)) {
		fprintf(stderr, "generate: %s would overwrite the spec %s: "
		    "choose another output name\n", same_file(spec_path, yml) ?
		    yml : out, spec_path);
		return EXIT_USAGE;
	}
	if (temp_beside(out, tmp_pcap, sizeof(tmp_pcap)) == -1 ||
	    temp_beside(yml, tmp_yml, sizeof(tmp_yml)) == -1) {
		fprintf(stderr, "generate: a temporary file beside %s: %s\n",
		    out, strerror(errno));
		goto done;
	}
	if ((pw = pcapw_open(tmp_pcap, DLT_EN10MB, false, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "generate: %s\n", err);
		goto done;
	}
	t0 = tr_mono_now();
	if (gen_run(spec, pw, stop, &t, err, sizeof(err)) == -1) {
		pcapw_close(pw);
		fprintf(stderr, "generate: %s\n", err);
		goto done;
	}
	if (pcapw_close(pw) == -1) {
		fprintf(stderr, "generate: %s: %s\n", out, strerror(errno));
		goto done;
	}
	if ((f = fopen(tmp_yml, "w")) == NULL ||
	    gen_write_replay_config(spec, spec_path, abs_pcap, f) == -1 ||
	    fclose(f) == EOF) {
		fprintf(stderr, "generate: %s: %s\n", yml, strerror(errno));
		f = NULL;
		goto done;
	}
	f = NULL;
	if (stop != NULL && *stop)
		goto done;
	/* Both complete: renamed one right after the other. */
	if (rename(tmp_pcap, out) == -1 || rename(tmp_yml, yml) == -1) {
		fprintf(stderr, "generate: renaming into place: %s\n",
		    strerror(errno));
		goto done;
	}
	tmp_pcap[0] = tmp_yml[0] = '\0';
	secs = (double)(tr_mono_now() - t0) / TR_NS_PER_SEC;
	fprintf(stderr, "generate: %s: %llu frames, %llu payload bytes in "
	    "%.3f s; replay config %s\n", out, (unsigned long long)t.frames,
	    (unsigned long long)t.bytes, secs, yml);
	rc = 0;
done:
	if (f != NULL)
		fclose(f);
	if (tmp_pcap[0] != '\0')
		unlink(tmp_pcap);
	if (tmp_yml[0] != '\0')
		unlink(tmp_yml);
	return rc;
}

int
gen_main(int argc, char **argv, volatile sig_atomic_t *stop)
{
	static const struct option longopts[] = {
		{ "spec", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "expect", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec_path = NULL, *out = NULL;
	bool expect = false;
	struct gen_spec spec;
	char err[1024];
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			spec_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'e':
			expect = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || spec_path == NULL || (out == NULL && !expect)) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (gen_spec_load(spec_path, NULL, 0, &spec, err, sizeof(err)) == -1) {
		fprintf(stderr, "generate: %s\n", err);
		return EXIT_USAGE;
	}
	if (out != NULL)
		rc = generate(&spec, spec_path, out, stop);
	if (rc == 0 && expect && gen_expect_json(&spec, stdout) == -1)
		rc = EXIT_FAIL;
	gen_spec_free(&spec);
	return rc;
}
