// Consumer pages: request (offerset), my leases, a lease.
//   #/request[?sku=…]  the request form, its offers (Accept) or why nothing matched
//   #/leases           the signed-in consumer's executions, a page at a time
//   #/lease/<id>       one lease: details, live phase timeline, actions, credentials, audit
//   #/projects         the signed-in principal's projects: create, add and remove members
//   #/payments         a paying market: your ledger account, the approval, your statement
import type { Session } from '../api';
import type { Route } from '../router';
import { LeasePage } from './consumer/lease';
import { LeasesPage } from './consumer/leases';
import { PaymentsPage } from './consumer/payments';
import { ProjectsPage } from './consumer/projects';
import { RequestPage } from './consumer/request';
import './consumer.css';

/** The page for `#/<first>/<rest…>`, or undefined when `first` is not a consumer page. */
export function consumerPage(first: string, rest: string[], route: Route, who: Session) {
  switch (first) {
    case 'request':
      return <RequestPage route={route} who={who} />;
    case 'leases':
      return <LeasesPage who={who} />;
    case 'projects':
      return <ProjectsPage who={who} />;
    case 'payments':
      // Keyed by principal: another person never sees the last one's balance, even for a moment.
      return <PaymentsPage key={who.principal.toText()} who={who} />;
    case 'lease':
      // Keyed by id and principal: another lease or another person starts from nothing.
      return <LeasePage key={`${rest[0]}/${who.principal.toText()}`} id={rest[0]} who={who} />;
    default:
      return undefined;
  }
}
