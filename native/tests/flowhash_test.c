// SPDX-License-Identifier: Apache-2.0
/* Checks lb_jhash2 and lb_flow_hash (native/include/lb) against the vectors that
 * tools/gen_flowhash_vectors.py computes with an independent implementation, the same files the
 * C# tests read. The flow words are filled the way the XDP program fills them: by copying the
 * packet's bytes, never by converting byte order.
 * Usage: flowhash_test TESTDATA_DIR (CTest passes native/testdata). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb/flow_hash.h"
#include "lb/jhash.h"

#define MAX_LINE 1024

static int failures;

static void fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static FILE *open_vectors(const char *dir, const char *name, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "flowhash_test: cannot open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return f;
}

/* Strict number parsing: a malformed file must fail loudly, not hash zeros. */
static int parse_u32(const char *text, int base, __u32 *out)
{
	char *end;
	unsigned long value;

	if (!text || !*text)
		return -1;
	errno = 0;
	value = strtoul(text, &end, base);
	if (errno || *end || value > 0xffffffffUL)
		return -1;
	*out = (__u32)value;
	return 0;
}

/* "-" or comma-separated hex words; returns the count, or -1 on a bad list or too many words. */
static int parse_words(char *text, __u32 *words, int max)
{
	int n = 0;
	char *save = NULL;

	if (strcmp(text, "-") == 0)
		return 0;
	for (char *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max || parse_u32(tok, 16, &words[n]) < 0)
			return -1;
		n++;
	}
	return n;
}

static int is_data_line(char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	return line[0] != '\0' && line[0] != '#';
}

static int check_jhash(const char *dir)
{
	char path[4096], line[MAX_LINE];
	int lineno = 0, count = 0;
	FILE *f = open_vectors(dir, "jhash_vectors.txt", path, sizeof(path));

	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *initval_s, *expected_s, *words_s, *extra;
		__u32 initval, expected, words[LB_JHASH2_MAX_WORDS], got;
		int n;

		lineno++;
		if (!is_data_line(line))
			continue;
		initval_s = strtok_r(line, " ", &save);
		expected_s = strtok_r(NULL, " ", &save);
		words_s = strtok_r(NULL, " ", &save);
		extra = strtok_r(NULL, " ", &save);
		if (!words_s || extra || parse_u32(initval_s, 16, &initval) < 0 ||
		    parse_u32(expected_s, 16, &expected) < 0) {
			fail(path, lineno, "malformed line, expected: initval expected words");
			continue;
		}
		n = parse_words(words_s, words, LB_JHASH2_MAX_WORDS);
		if (n < 0) {
			fail(path, lineno, "bad word list (hex words, at most %d)", LB_JHASH2_MAX_WORDS);
			continue;
		}
		got = lb_jhash2(words, (__u32)n, initval);
		if (got != expected)
			fail(path, lineno, "lb_jhash2 over %d words, initval 0x%08x: got 0x%08x, expected 0x%08x",
			     n, initval, got, expected);
		count++;
	}
	fclose(f);
	if (count == 0)
		fail(path, lineno, "no vectors");
	return count;
}

/* What the XDP program does: copy the address bytes and the L4 header's first 4 bytes. */
static void fill_flow_words(struct lb_flow_hash_input *in, int family, const void *saddr,
			    const void *daddr, __u16 sport, __u16 dport, __u8 proto, int affinity)
{
	size_t addr_len = family == 4 ? 4 : 16;
	__be16 ports[2] = { htons(sport), htons(dport) };

	memset(in, 0, sizeof(*in));
	memcpy(&in->w[0], saddr, addr_len);
	if (affinity)
		return;
	memcpy(&in->w[4], daddr, addr_len);
	memcpy(&in->w[8], ports, sizeof(ports));
	in->w[9] = proto;
}

static int check_flowhash(const char *dir)
{
	char path[4096], line[MAX_LINE];
	int lineno = 0, count = 0;
	FILE *f = open_vectors(dir, "flowhash_vectors.txt", path, sizeof(path));

	while (fgets(line, sizeof(line), f)) {
		char *field[11], *save = NULL;
		__u32 family, sport, dport, proto, affinity, seed, expected, words[LB_FLOW_HASH_WORDS], got;
		unsigned char saddr[16], daddr[16];
		struct lb_flow_hash_input in;
		int nfields = 0, af;

		lineno++;
		if (!is_data_line(line))
			continue;
		for (char *tok = strtok_r(line, " ", &save); tok && nfields < 11; tok = strtok_r(NULL, " ", &save))
			field[nfields++] = tok;
		if (nfields != 10 || parse_u32(field[0], 10, &family) < 0 || (family != 4 && family != 6) ||
		    parse_u32(field[3], 10, &sport) < 0 || sport > 0xffff ||
		    parse_u32(field[4], 10, &dport) < 0 || dport > 0xffff ||
		    parse_u32(field[5], 10, &proto) < 0 || proto > 0xff ||
		    parse_u32(field[6], 10, &affinity) < 0 || affinity > 1 ||
		    parse_u32(field[7], 16, &seed) < 0 || parse_u32(field[8], 16, &expected) < 0 ||
		    parse_words(field[9], words, LB_FLOW_HASH_WORDS) != LB_FLOW_HASH_WORDS) {
			fail(path, lineno, "malformed line, expected: family saddr daddr sport dport proto affinity seed hash words");
			continue;
		}
		af = family == 4 ? AF_INET : AF_INET6;
		if (inet_pton(af, field[1], saddr) != 1 || inet_pton(af, field[2], daddr) != 1) {
			fail(path, lineno, "addresses are not IPv%u", family);
			continue;
		}
		fill_flow_words(&in, (int)family, saddr, daddr, (__u16)sport, (__u16)dport, (__u8)proto,
				(int)affinity);
		for (int i = 0; i < LB_FLOW_HASH_WORDS; i++)
			if (in.w[i] != words[i])
				fail(path, lineno, "word %d: filled 0x%08x, expected 0x%08x", i, in.w[i], words[i]);
		got = lb_flow_hash(&in, seed);
		if (got != expected)
			fail(path, lineno, "lb_flow_hash: got 0x%08x, expected 0x%08x", got, expected);
		count++;
	}
	fclose(f);
	if (count == 0)
		fail(path, lineno, "no vectors");
	return count;
}

int main(int argc, char **argv)
{
	int jhash_count, flow_count;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TESTDATA_DIR\n", argv[0]);
		return 2;
	}
	jhash_count = check_jhash(argv[1]);
	flow_count = check_flowhash(argv[1]);
	if (failures) {
		fprintf(stderr, "flowhash_test: FAILED, %d mismatch(es)\n", failures);
		return 1;
	}
	printf("flowhash_test: %d jhash2 vectors and %d flow-hash vectors match\n", jhash_count, flow_count);
	return 0;
}
