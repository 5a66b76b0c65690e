/* The built-in receiving collector (`traffic-reproducer sink`): listens, counts, decodes headers, answers BGP. */
#ifndef TR_SINK_H
#define TR_SINK_H

/*
 * Run the sink with its own command line (argv[0] = "sink") until SIGINT,
 * SIGTERM, --duration or --idle, print the summary on stdout, and return the
 * process exit code: 0 after a normal stop, 1 when a socket or file could not
 * be set up (or the event loop failed), 2 for a usage error.
 *
 * Options:
 *   --listen ADDR   default "::" (dual-stack: IPv4 arrives as well); an IPv4
 *                   address listens on IPv4 only
 *   --udp PORT, --tcp PORT   repeatable; 0 picks a free port
 *   --json          summary as JSON (below) instead of a table
 *   --dump FILE     one line per datagram / framed message (below)
 *   --ready FILE    written atomically (rename) once every socket listens:
 *                   one "udp PORT" or "tcp PORT" line per --udp/--tcp option,
 *                   in command-line order, with the port really bound
 *   --duration SEC  stop after SEC seconds
 *   --idle SEC      stop once nothing arrived for SEC seconds (after something did)
 *   --bgp-as N      own AS in BGP answers (default 64512; 4-byte values go in
 *                   the AS4 capability with AS_TRANS in the header)
 *
 * Dump lines (hex is lowercase, addresses plain: IPv4-mapped IPv6 as IPv4):
 *   udp EXPORTER_ADDR EXPORTER_PORT LOCAL_PORT HEX   one per UDP datagram
 *   tcp EXPORTER_ADDR EXPORTER_PORT LOCAL_PORT HEX   one per framed BMP/BGP
 *       message; for a raw connection (or the rest of one after a framing
 *       error) one line with all its bytes when it closes or the sink stops
 * Lines are flushed after each burst of events, so a test can read the file
 * while the sink runs.
 *
 * JSON summary (keys in this order; arrays sorted by exporter address, then
 * port, then protocol; "port" is the sink's local port):
 * {"udp": [{"exporter": "127.0.0.1", "port": 24739, "datagrams": N,
 *           "bytes": N, "undecoded": N,
 *           "netflow": [{"version": 10, "domain": 0, "messages": N,
 *                        "first_sequence": N, "last_sequence": N,
 *                        "sequence_errors": N, "template_sets": N,
 *                        "data_sets": N, "malformed": N}]}],
 *  "tcp": [{"exporter": "127.0.0.1", "port": 1790,
 *           "protocol": "bmp" | "bgp" | "raw", "connections": N,
 *           "closed": N, "resets": N, "bytes": N, "messages": N,
 *           "types": {"route_monitoring": N, ...},
 *           "framing_errors": N,
 *           "errors": [{"offset": N, "error": "..."}],
 *           "truncated_bytes": N, "opens_answered": N,
 *           "notifications": [{"code": N, "subcode": N}]}],
 *  "totals": {"datagrams": N, "tcp_connections": N, "tcp_messages": N,
 *             "bytes": N, "untracked": N}}
 *
 * "undecoded": datagrams that are not NetFlow v5/v9/IPFIX.  "malformed":
 * NetFlow/IPFIX headers whose sets do not add up.  "sequence_errors": times
 * the sequence number was not the previous one plus the expected step (v5:
 * the previous record count; v9: 1; IPFIX: the previous message's data
 * records, checked only when every data set's template was seen with a fixed
 * record length).  "types": every message type of the protocol (BMP: 7 keys,
 * BGP: 5, raw: none).  "errors" keeps the first few framing errors with the
 * stream byte offset of the bad header; after one the connection's bytes are
 * only counted.  "truncated_bytes": bytes of an unfinished message when a
 * connection ended.  "closed"/"resets": connections the exporter closed or
 * reset (the rest were open when the sink stopped).  "untracked": datagrams
 * and connections past the per-sink exporter cap, counted nowhere else.
 */
int	sink_main(int argc, char **argv);

#endif
