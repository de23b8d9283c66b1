/* Fee model of the matching engine.
 *
 * Contract: every fill of ours costs qty * fee_per_contract BRL (the
 * instrument's configured figure), charged on each side (a buy and a sell
 * both pay), whether the fill took or provided liquidity; fees are
 * accumulated per order (sim_match_order.fees) and per position
 * (sim_match_position.fees) and never enter the realized P&L.
 * sim_match_instrument_defaults (sim_matching.h) gives B3's day-trade
 * figures for WDO and WIN; sim_fees.c says where they come from. */
#ifndef SIM_FEES_H
#define SIM_FEES_H

#include <stdint.h>

#include "matching/sim_matching.h"

/* The fee of one fill of qty contracts, BRL. */
double sim_fee_for_fill(const sim_match_instrument *ins, int64_t qty);

#endif
