/* Fee model of the matching engine (see sim_fees.h for the contract) and
 * the B3 defaults of the instruments the simulator knows.
 *
 * FEES (sim_match_instrument_defaults).  B3 charges emolumentos + registration
 * as one "tarifa unica" per contract traded, by monthly volume tier, with a
 * day-trade reduction; brokers add their own fees (not modelled).  Figures
 * from B3's public tariff pages (b3.com.br, "Tarifas > Listados a vista e
 * derivativos"), read in 2025, first volume tier, day trade:
 *   WIN: BRL 1.97 (Ibovespa futures, 1-50 contracts ADV) x contract factor
 *        0.2 x (1 - 35% day-trade reduction, 1-5 contracts ADV)
 *        = BRL 0.256 -> 0.26 per contract per side.
 *   WDO: USD 0.97 (dollar futures, 1-250 ADV) x contract factor 0.25 x
 *        (1 - 16% day-trade reduction, 1-20 ADV) = USD 0.2037, at an assumed
 *        BRL 5.40 per USD = BRL 1.10 per contract per side.
 * These are APPROXIMATIONS: the real fee depends on the tier reached, the
 * exchange rate B3 uses, whether the trade is day trade, and changes when B3
 * revises its tables.  Configure fee_per_contract per instrument when the
 * exact figure matters. */
#include "matching/sim_fees.h"

#include <string.h>

double sim_fee_for_fill(const sim_match_instrument *ins, int64_t qty) {
    return (double)qty * ins->fee_per_contract;
}

int sim_match_instrument_defaults(const char *ticker, uint16_t instrument, sim_match_instrument *out) {
    if (!ticker || !out) return SIM_MATCH_E_ARGS;
    char root[4] = {0};
    for (int i = 0; i < 3; i++) {
        char ch = ticker[i];
        if (!ch) return SIM_MATCH_E_INSTRUMENT;
        root[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
    }
    sim_match_instrument d;
    memset(&d, 0, sizeof d);
    d.instrument = instrument;
    d.tick_units = 1;
    if (strcmp(root, "WDO") == 0) {
        d.price_unit = 0.5;
        d.point_value = 10.0;
        d.fee_per_contract = 1.10;
    } else if (strcmp(root, "WIN") == 0) {
        d.price_unit = 5.0;
        d.point_value = 0.2;
        d.fee_per_contract = 0.26;
    } else {
        return SIM_MATCH_E_INSTRUMENT;
    }
    *out = d;
    return SIM_MATCH_OK;
}
