/* The information elements generate knows by name, from the IANA IPFIX registry (RFC 7012; NetFlow v9 shares the ids below 128). */
#include <string.h>

#include "gen_ie.h"

const struct gen_ie gen_ie_table[] = {
	{ "octetDeltaCount",		1,   8, GEN_IE_UNSIGNED },
	{ "packetDeltaCount",		2,   8, GEN_IE_UNSIGNED },
	{ "protocolIdentifier",		4,   1, GEN_IE_UNSIGNED },
	{ "ipClassOfService",		5,   1, GEN_IE_UNSIGNED },
	{ "tcpControlBits",		6,   2, GEN_IE_UNSIGNED },
	{ "sourceTransportPort",	7,   2, GEN_IE_UNSIGNED },
	{ "sourceIPv4Address",		8,   4, GEN_IE_IPV4 },
	{ "sourceIPv4PrefixLength",	9,   1, GEN_IE_UNSIGNED },
	{ "ingressInterface",		10,  4, GEN_IE_UNSIGNED },
	{ "destinationTransportPort",	11,  2, GEN_IE_UNSIGNED },
	{ "destinationIPv4Address",	12,  4, GEN_IE_IPV4 },
	{ "destinationIPv4PrefixLength", 13, 1, GEN_IE_UNSIGNED },
	{ "egressInterface",		14,  4, GEN_IE_UNSIGNED },
	{ "ipNextHopIPv4Address",	15,  4, GEN_IE_IPV4 },
	{ "bgpSourceAsNumber",		16,  4, GEN_IE_UNSIGNED },
	{ "bgpDestinationAsNumber",	17,  4, GEN_IE_UNSIGNED },
	{ "bgpNextHopIPv4Address",	18,  4, GEN_IE_IPV4 },
	{ "flowEndSysUpTime",		21,  4, GEN_IE_FLOW_END },
	{ "flowStartSysUpTime",		22,  4, GEN_IE_FLOW_START },
	{ "sourceIPv6Address",		27, 16, GEN_IE_IPV6 },
	{ "destinationIPv6Address",	28, 16, GEN_IE_IPV6 },
	{ "sourceIPv6PrefixLength",	29,  1, GEN_IE_UNSIGNED },
	{ "destinationIPv6PrefixLength", 30, 1, GEN_IE_UNSIGNED },
	{ "flowLabelIPv6",		31,  4, GEN_IE_UNSIGNED },
	{ "icmpTypeCodeIPv4",		32,  2, GEN_IE_UNSIGNED },
	{ "samplingInterval",		34,  4, GEN_IE_UNSIGNED },
	{ "samplingAlgorithm",		35,  1, GEN_IE_UNSIGNED },
	{ "vlanId",			58,  2, GEN_IE_UNSIGNED },
	{ "ipVersion",			60,  1, GEN_IE_UNSIGNED },
	{ "flowDirection",		61,  1, GEN_IE_UNSIGNED },
	{ "ipNextHopIPv6Address",	62, 16, GEN_IE_IPV6 },
	{ "bgpNextHopIPv6Address",	63, 16, GEN_IE_IPV6 },
	{ "mplsTopLabelStackSection",	70,  3, GEN_IE_UNSIGNED },
	{ "icmpTypeCodeIPv6",		139, 2, GEN_IE_UNSIGNED },
	{ "flowStartSeconds",		150, 4, GEN_IE_FLOW_START },
	{ "flowEndSeconds",		151, 4, GEN_IE_FLOW_END },
	{ "flowStartMilliseconds",	152, 8, GEN_IE_FLOW_START },
	{ "flowEndMilliseconds",	153, 8, GEN_IE_FLOW_END },
	{ "flowStartMicroseconds",	154, 8, GEN_IE_FLOW_START },
	{ "flowEndMicroseconds",	155, 8, GEN_IE_FLOW_END },
	{ "flowStartNanoseconds",	156, 8, GEN_IE_FLOW_START },
	{ "flowEndNanoseconds",		157, 8, GEN_IE_FLOW_END },
	{ "forwardingStatus",		89,  1, GEN_IE_UNSIGNED },
	{ "postNATSourceIPv4Address",	225, 4, GEN_IE_IPV4 },
	{ "postNATDestinationIPv4Address", 226, 4, GEN_IE_IPV4 },
	{ "postNAPTSourceTransportPort", 227, 2, GEN_IE_UNSIGNED },
	{ "postNAPTDestinationTransportPort", 228, 2, GEN_IE_UNSIGNED },
};

const size_t gen_ie_count = sizeof(gen_ie_table) / sizeof(gen_ie_table[0]);

const struct gen_ie *
gen_ie_find(const char *name)
{
	for (size_t i = 0; i < gen_ie_count; i++)
		if (strcmp(gen_ie_table[i].name, name) == 0)
			return &gen_ie_table[i];
	return NULL;
}
