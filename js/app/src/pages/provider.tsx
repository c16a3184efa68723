// Provider console: the key (made or imported, kept in this browser), the catalog (signed and
// published), the market delegation, inventory and offers, and the leases on the items.
//   #/provider              the key
//   #/provider/catalog      publish the catalog
//   #/provider/delegate     delegate to the signed-in principal
//   #/provider/inventory    items and offers
//   #/provider/leases[/id]  leases, a lease's provisioning and credentials
//   #/provider/payouts      where the market pays you (signed by the key), your statement
import type { Session } from '../api';
import type { Route } from '../router';
import { Alert } from '../ui';
import { CatalogPage } from './provider/catalog';
import { DelegatePage } from './provider/delegate';
import { InventoryPage } from './provider/inventory';
import { KeyPage } from './provider/key';
import { LeasesPage } from './provider/leases';
import { PayoutsPage } from './provider/payouts';
import './provider.css';

export function providerPage(rest: string[], _route: Route, who: Session) {
  const [tab = '', id] = rest;
  switch (tab) {
    case '':
      return <KeyPage who={who} />;
    case 'catalog':
      return <CatalogPage who={who} />;
    case 'delegate':
      return <DelegatePage who={who} />;
    case 'inventory':
      return <InventoryPage who={who} />;
    case 'leases':
      return <LeasesPage key={id ?? 'list'} who={who} id={id} />;
    case 'payouts':
      return <PayoutsPage who={who} />;
    default:
      return <Alert>There is no provider page at #/provider/{rest.join('/')}.</Alert>;
  }
}
